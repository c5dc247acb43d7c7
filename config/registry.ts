/**
 * Private registries: the pull secrets every pod gets, and a mirror every public image is pulled
 * through (air-gapped clusters mirror Docker Hub, quay.io and docker.elastic.co under one registry).
 */
import { z } from "zod";
import type { PodScheduling, SchedulingGroup } from "./scheduling";
import { dnsLabel, listOf } from "./schemas";

/** What every pod of the stack gets, whichever piece it belongs to. */
export interface PodDefaults {
    /** Names of the Secrets its images are pulled with. */
    readonly imagePullSecrets: readonly string[];
    /** Where each piece's pods may run (config/scheduling.ts). */
    readonly scheduling: Partial<Record<SchedulingGroup, PodScheduling>>;
}

const secretName = new RegExp(`^${dnsLabel}(\\.${dnsLabel})*$`);

/** `imagePullSecrets`: names of Secrets of type kubernetes.io/dockerconfigjson in the namespace. */
export const imagePullSecretsSchema = listOf("Secret names, e.g. [registry-credentials]").superRefine(
    (names, context) => {
        for (const name of names) {
            if (name.length > 253 || !secretName.test(name)) {
                context.addIssue({
                    code: "custom",
                    message: `"${name}" is no Secret name: lower-case letters, digits, '-' and '.', at most 253 characters`,
                });
            }
        }
        const repeated = names.filter((name, index) => names.indexOf(name) !== index);
        if (repeated.length > 0) {
            context.addIssue({ code: "custom", message: `"${repeated[0]}" is listed twice. List each Secret once` });
        }
    },
);

const mirrorPattern = new RegExp(`^${dnsLabel}(\\.${dnsLabel})*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`);

/** `imageRegistryMirror`: `host[:port][/path]`, without a scheme, a tag or a trailing slash. */
export const registryMirrorSchema = z.string().superRefine((value, context) => {
    if (value !== "" && !mirrorPattern.test(value)) {
        context.addIssue({
            code: "custom",
            message: `"${value}" is not a registry prefix. Give host[:port][/path] without a scheme or a trailing slash, e.g. "registry.corp.example.com/mirror"`,
        });
    }
});

/** The public registries a mirror stands in for; Docker Hub under its canonical name. */
const publicRegistries: Readonly<Record<string, string>> = {
    "docker.io": "docker.io",
    "index.docker.io": "docker.io",
    "registry-1.docker.io": "docker.io",
    "quay.io": "quay.io",
    "docker.elastic.co": "docker.elastic.co",
    "ghcr.io": "ghcr.io",
    "registry.k8s.io": "registry.k8s.io",
    "gcr.io": "gcr.io",
};

/**
 * Where an image is pulled from through the mirror: the mirror, then the image's full name as its public
 * registry has it (`docker.io/library/node:22`, `quay.io/keycloak/keycloak:26.5.5`), tag and digest kept.
 * That is the layout of a registry that mirrors several upstream ones side by side. An image of any
 * other registry (a company's own, or the mirror itself) is pulled from there, as it is named.
 */
export function mirroredImage(reference: string, mirror: string): string {
    if (mirror === "") {
        return reference;
    }
    const [first = "", ...rest] = reference.split("/");
    const hasRegistry = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
    const registry = hasRegistry ? publicRegistries[first] : "docker.io";
    if (registry === undefined) {
        return reference;
    }
    const path = hasRegistry ? rest.join("/") : reference;
    const qualified = registry === "docker.io" && !path.includes("/") ? `library/${path}` : path;
    return `${mirror}/${registry}/${qualified}`;
}
