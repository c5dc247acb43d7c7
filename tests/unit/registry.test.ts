/**
 * Private registries: with `imagePullSecrets` every pod of the render pulls with those Secrets, with
 * `imageRegistryMirror` every public image comes through the mirror; without them nothing changes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "yaml";
import { mirroredImage } from "../../config/registry";
import { validateStackConfig } from "../../config/validate";
import { projectDir, renderBothStacks, renderStack, type Rendered } from "../helpers/render";
import { testStackConfig } from "../helpers/stackFixtures";

interface PodSpec {
    imagePullSecrets?: { name: string }[];
    containers: { name: string; image: string }[];
    initContainers?: { name: string; image: string }[];
}

/** Every pod template of the render, by its object's kind and name. */
function podSpecs(rendered: Rendered): [string, PodSpec][] {
    return rendered.manifests.flatMap((manifest) => {
        // A Job's name ends in a hash of what it runs (a changed image runs it again): not part of who it is.
        const objectName = (manifest.metadata as { name: string }).name.replace(/-[0-9a-f]{8}$/, "");
        const name = `${String(manifest.kind)}/${objectName}`;
        const spec = manifest.spec as Record<string, any> | undefined;
        const pod = (spec?.jobTemplate?.spec?.template?.spec ?? spec?.template?.spec) as PodSpec | undefined;
        return pod ? [[name, pod] as [string, PodSpec]] : [];
    });
}

describe("mirroredImage", () => {
    it.each([
        ["node:22.23.5-alpine", "docker.io/library/node:22.23.5-alpine"],
        ["nginxinc/nginx-unprivileged:1.28.0", "docker.io/nginxinc/nginx-unprivileged:1.28.0"],
        ["quay.io/keycloak/keycloak:26.5.5", "quay.io/keycloak/keycloak:26.5.5"],
        ["docker.elastic.co/beats/filebeat:8.19.4", "docker.elastic.co/beats/filebeat:8.19.4"],
        [`postgres:16.9@sha256:${"a".repeat(64)}`, `docker.io/library/postgres:16.9@sha256:${"a".repeat(64)}`],
        ["docker.io/node:22", "docker.io/library/node:22"],
        ["index.docker.io/nginxinc/nginx-unprivileged:1.28.0", "docker.io/nginxinc/nginx-unprivileged:1.28.0"],
    ])("%s comes through the mirror as mirror/%s", (image, path) => {
        expect(mirroredImage(image, "registry.corp.example.com:5000/mirror")).toBe(
            `registry.corp.example.com:5000/mirror/${path}`,
        );
    });

    it.each([
        "localhost:5000/chat/mattermost:11.6.1",
        "registry.corp.example.com/chat/mattermost:11.6.1",
        "registry.corp.example.com:5000/mirror/docker.io/library/node:22",
    ])("pulls %s, of no public registry, as it is named", (image) => {
        expect(mirroredImage(image, "registry.corp.example.com:5000/mirror")).toBe(image);
    });

    it("leaves every image as it is without a mirror", () => {
        expect(mirroredImage("node:22.23.5-alpine", "")).toBe("node:22.23.5-alpine");
    });
});

describe("the registry settings", () => {
    const errors = (change: Record<string, string>) => validateStackConfig({ ...testStackConfig, ...change }).errors;

    it.each([
        [
            { imagePullSecrets: '["Registry_Credentials"]' },
            "mattermost:imagePullSecrets: \"Registry_Credentials\" is no Secret name: lower-case letters, digits, '-' and '.', at most 253 characters.",
        ],
        [
            { imagePullSecrets: '["pull", "pull"]' },
            'mattermost:imagePullSecrets: "pull" is listed twice. List each Secret once.',
        ],
        [
            { imageRegistryMirror: "https://registry.corp.example.com/mirror" },
            'mattermost:imageRegistryMirror: "https://registry.corp.example.com/mirror" is not a registry prefix. Give host[:port][/path] without a scheme or a trailing slash, e.g. "registry.corp.example.com/mirror".',
        ],
        [
            { imageRegistryMirror: "registry.corp.example.com/mirror/" },
            'mattermost:imageRegistryMirror: "registry.corp.example.com/mirror/" is not a registry prefix. Give host[:port][/path] without a scheme or a trailing slash, e.g. "registry.corp.example.com/mirror".',
        ],
    ])("refuses %j", (change, message) => {
        expect(errors(change)).toEqual([message]);
    });

    it("takes Secret names and a mirror with a port and a path", () => {
        expect(
            errors({
                imagePullSecrets: '["pull", "mirror.pull"]',
                imageRegistryMirror: "registry.corp:5000/hub/mirror",
            }),
        ).toEqual([]);
    });
});

describe("the render with a private registry", () => {
    const mirror = "registry.corp.example.com/mirror";
    let withRegistry: Rendered;
    const stacks = renderBothStacks();
    let dir: string;

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-"));
        const stackFile = path.join(dir, "Pulumi.test.yaml");
        const document = yaml.parse(fs.readFileSync(path.join(projectDir, "Pulumi.test.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        document.config["mattermost:imagePullSecrets"] = ["registry-credentials"];
        document.config["mattermost:imageRegistryMirror"] = mirror;
        fs.writeFileSync(stackFile, yaml.stringify(document));
        withRegistry = renderStack("test", stackFile);
    }, 180000);

    afterAll(() => {
        for (const rendered of [withRegistry]) {
            fs.rmSync(rendered.dir, { recursive: true, force: true });
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("gives every pod the pull secret", () => {
        const pods = podSpecs(withRegistry);
        expect(pods.length).toBeGreaterThanOrEqual(6);
        expect(pods.filter(([, pod]) => pod.imagePullSecrets?.[0]?.name !== "registry-credentials")).toEqual([]);
    });

    it("pulls every container's image through the mirror, as the stack without it names it", () => {
        const images = (rendered: Rendered): [string, string][] =>
            podSpecs(rendered).flatMap(([name, pod]) =>
                [...(pod.initContainers ?? []), ...pod.containers].map((container): [string, string] => [
                    `${name}/${container.name}`,
                    container.image,
                ]),
            );
        const plain = new Map(images(stacks.test));
        const mirrored = images(withRegistry);
        expect(mirrored.length).toBe(plain.size);
        for (const [container, image] of mirrored) {
            expect([container, image]).toEqual([container, mirroredImage(plain.get(container) ?? "", mirror)]);
        }
    });

    it("changes nothing where neither is set", () => {
        for (const rendered of Object.values(stacks)) {
            expect(podSpecs(rendered).filter(([, pod]) => pod.imagePullSecrets !== undefined)).toEqual([]);
            expect(rendered.file("manifests.yaml")).not.toContain(mirror);
        }
    });
});
