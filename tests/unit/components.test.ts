import * as pulumi from "@pulumi/pulumi";
import { MattermostPair } from "../../components/mattermostPair";
import { Keycloak } from "../../components/keycloak";
import { NginxFailover, edgeTimeoutSeconds } from "../../components/nginxFailover";
import { renderGuardScript } from "../../config/guard";
import { S3Store } from "../../components/s3Store";
import { TrustBundle } from "../../components/trustBundle";
import { baseSettings } from "../../config/mattermostSettings";
import { ofType, recordResources, settled, type Registered } from "../helpers/mocks";

const resources = { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } };

let registered: Registered[];

beforeAll(async () => {
    registered = await recordResources();
});

function created(prefix: string): Registered[] {
    return registered.filter((resource) => resource.name.startsWith(prefix));
}

function countByType(list: readonly Registered[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { type } of list) {
        counts[type] = (counts[type] ?? 0) + 1;
    }
    return counts;
}

function deployment(list: readonly Registered[], name: string): Registered {
    const found = ofType(list, "kubernetes:apps/v1:Deployment").find(
        (resource) => resource.inputs.metadata.name === name,
    );
    if (!found) {
        throw new Error(`no Deployment ${name}`);
    }
    return found;
}

describe("MattermostPair", () => {
    beforeAll(async () => {
        const common = {
            namespace: "chat",
            image: "mattermost/mattermost-team-edition:10.11.10",
            settings: baseSettings,
            databaseUrl: pulumi.secret("postgres://mm:pw@db:5432/mm?sslmode=disable"),
            databaseWait: { host: "db.example.com", port: 5432, image: "postgres:16.9" },
            sso: { mode: "gitlab" as const, clientSecret: pulumi.secret("client-secret") },
            resources,
        };
        const trustBundle = new TrustBundle("testpair-trust", { namespace: "chat", certificates: ["CA"] });
        new MattermostPair("prodpair", { ...common, platform: "openshift", production: true });
        new MattermostPair("testpair", {
            ...common,
            platform: "kubernetes",
            production: false,
            trustBundle,
            fileStoreCredentials: { accessKeyId: pulumi.secret("AK"), secretAccessKey: pulumi.secret("SK") },
        });
        await settled();
    });

    it("creates exactly the pair, its settings, its secrets, its disruption budget and its schema migration", () => {
        expect(
            countByType(created("testpair").filter((resource) => !resource.name.startsWith("testpair-trust"))),
        ).toEqual({
            "mattermost:k8s:MattermostPair": 1,
            "kubernetes:core/v1:ConfigMap": 1,
            // The pair's, and the schema migration's database URL.
            "kubernetes:core/v1:Secret": 2,
            "kubernetes:batch/v1:Job": 1,
            "random:index/randomPassword:RandomPassword": 2,
            "kubernetes:core/v1:ServiceAccount": 1,
            "kubernetes:apps/v1:Deployment": 2,
            "kubernetes:core/v1:Service": 2,
            "kubernetes:policy/v1:PodDisruptionBudget": 1,
        });
        expect(
            ofType(created("testpair"), "kubernetes:core/v1:Service").map((service) => service.inputs.metadata.name),
        ).toEqual(["testpair-2", "testpair-1"]);
    });

    it("grants uid 2000 on OpenShift through the nonroot-v2 SCC, and only there", () => {
        const bindings = ofType(registered, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
        expect(bindings.map((binding) => binding.name)).toEqual(["prodpair-scc-nonroot-v2"]);
        expect(bindings[0]?.inputs.roleRef).toEqual({
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: "system:openshift:scc:nonroot-v2",
        });
        expect(bindings[0]?.inputs.subjects).toEqual([{ kind: "ServiceAccount", name: "prodpair", namespace: "chat" }]);
    });

    it.each(["testpair-1", "testpair-2"])(
        "runs %s as one Recreate replica, uid 2000, restricted, without a token",
        (name) => {
            const spec = deployment(registered, name).inputs.spec;
            expect(spec.replicas).toBe(1);
            expect(spec.strategy).toEqual({ type: "Recreate" });
            const pod = spec.template.spec;
            expect(pod.automountServiceAccountToken).toBe(false);
            expect(pod.securityContext).toEqual({
                runAsUser: 2000,
                runAsGroup: 2000,
                fsGroup: 2000,
                runAsNonRoot: true,
                seccompProfile: { type: "RuntimeDefault" },
            });
            const [container] = pod.containers;
            expect(container.securityContext).toEqual({
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                readOnlyRootFilesystem: false,
                runAsNonRoot: true,
            });
            expect(container.resources).toEqual(resources);
            // Writable paths are emptyDirs; the only other volume is the read-only trust bundle. No PVC.
            expect(
                pod.volumes.map(
                    (volume: Record<string, unknown>) => Object.keys(volume).filter((key) => key !== "name")[0],
                ),
            ).toEqual(["emptyDir", "emptyDir", "emptyDir", "emptyDir", "emptyDir", "emptyDir", "configMap"]);
            expect(container.envFrom).toEqual([
                { configMapRef: { name: "testpair-settings-auto" } },
                { secretRef: { name: "testpair-secrets-auto" } },
            ]);
        },
    );

    it("probes the plain ping, never /healthz and never the database or S3", () => {
        const [container] = deployment(registered, "testpair-1").inputs.spec.template.spec.containers;
        for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
            expect(container[probe].httpGet).toEqual({ path: "/api/v4/system/ping", port: "http" });
        }
    });

    it("turns jobs and the scheduler off on the backup only", () => {
        const jobsOff = [
            { name: "MM_JOBSETTINGS_RUNJOBS", value: "false" },
            { name: "MM_JOBSETTINGS_RUNSCHEDULER", value: "false" },
        ];
        expect(deployment(registered, "prodpair-1").inputs.spec.template.spec.containers[0].env).toEqual([]);
        expect(deployment(registered, "prodpair-2").inputs.spec.template.spec.containers[0].env).toEqual(jobsOff);
        expect(deployment(registered, "testpair-2").inputs.spec.template.spec.containers[0].env).toEqual(
            expect.arrayContaining(jobsOff),
        );
    });

    it("trusts the bundle next to the public roots, read-only, in both pods", () => {
        for (const name of ["testpair-1", "testpair-2"]) {
            const pod = deployment(registered, name).inputs.spec.template.spec;
            expect(pod.containers[0].env).toContainEqual({
                name: "SSL_CERT_DIR",
                value: "/etc/ssl/certs:/etc/mattermost/trust",
            });
            expect(pod.containers[0].volumeMounts).toContainEqual({
                name: "trust-bundle",
                mountPath: "/etc/mattermost/trust",
                readOnly: true,
            });
            expect(pod.volumes).toContainEqual({ name: "trust-bundle", configMap: { name: "testpair-trust-auto" } });
        }
        const withoutBundle = deployment(registered, "prodpair-1").inputs.spec.template.spec;
        expect(JSON.stringify(withoutBundle)).not.toContain("trust-bundle");
    });

    it("waits for the database with pg_isready from the PostgreSQL image, with no secret in sight", () => {
        const [wait] = deployment(registered, "testpair-1").inputs.spec.template.spec.initContainers;
        expect(wait.image).toBe("postgres:16.9");
        expect(wait.command[0]).toBe("sh");
        expect(wait.command[2]).toContain('pg_isready -q -h "$DATABASE_HOST" -p "$DATABASE_PORT"');
        expect(wait.env).toEqual([
            { name: "DATABASE_HOST", value: "db.example.com" },
            { name: "DATABASE_PORT", value: "5432" },
        ]);
        expect(wait.envFrom).toBeUndefined();
        expect(wait.securityContext.readOnlyRootFilesystem).toBe(true);
    });

    it("requires the two pods on different nodes in production and prefers it in test", () => {
        const term = {
            labelSelector: { matchLabels: { "mattermost-platform/pair": "mattermost" } },
            topologyKey: "kubernetes.io/hostname",
        };
        expect(deployment(registered, "prodpair-1").inputs.spec.template.spec.affinity.podAntiAffinity).toEqual({
            requiredDuringSchedulingIgnoredDuringExecution: [term],
        });
        expect(deployment(registered, "testpair-1").inputs.spec.template.spec.affinity.podAntiAffinity).toEqual({
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
        });
    });

    it("lets a drain take one pod of the pair but not both", () => {
        const [budget] = ofType(created("testpair"), "kubernetes:policy/v1:PodDisruptionBudget");
        expect(budget?.inputs.spec).toEqual({
            minAvailable: 1,
            selector: { matchLabels: { "mattermost-platform/pair": "mattermost" } },
        });
        for (const name of ["testpair-1", "testpair-2"]) {
            expect(deployment(registered, name).inputs.spec.template.metadata.labels["mattermost-platform/pair"]).toBe(
                "mattermost",
            );
        }
    });

    it("keeps the settings in a ConfigMap with no secret in it, and the secrets in the Secret", () => {
        const [configMap] = ofType(created("testpair"), "kubernetes:core/v1:ConfigMap");
        const secret = ofType(created("testpair"), "kubernetes:core/v1:Secret").find(
            (candidate) => candidate.name === "testpair-secrets",
        );
        // The SDK's marker for a secret input: the whole of stringData reaches the provider as a secret.
        const stringData = secret?.inputs.stringData;
        expect(stringData["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
        expect(Object.keys(stringData.value).sort()).toEqual([
            "MM_CONFIG",
            "MM_FILESETTINGS_AMAZONS3ACCESSKEYID",
            "MM_FILESETTINGS_AMAZONS3SECRETACCESSKEY",
            "MM_FILESETTINGS_PUBLICLINKSALT",
            "MM_GITLABSETTINGS_SECRET",
            "MM_SQLSETTINGS_ATRESTENCRYPTKEY",
            "MM_SQLSETTINGS_DATASOURCE",
        ]);
        expect(JSON.stringify(configMap?.inputs.data)).not.toMatch(/postgres:\/\/|random-/);
        expect(configMap?.inputs.data.MM_SQLSETTINGS_DRIVERNAME).toBe("postgres");
    });
});

describe("S3Store and TrustBundle", () => {
    let store: S3Store;

    beforeAll(async () => {
        store = new S3Store("store", { namespace: "chat", image: "chrislusf/seaweedfs:4.53" });
        new TrustBundle("bundle", { namespace: "chat", certificates: ["COMPANY-CA\n", store.caCertificate] });
        await settled();
    });

    it("signs the store's certificate with a CA of its own, P-256, for the Service's DNS names", () => {
        const keys = ofType(created("store"), "tls:index/privateKey:PrivateKey");
        expect(keys.map((key) => [key.name, key.inputs.algorithm, key.inputs.ecdsaCurve])).toEqual([
            ["store-ca-key", "ECDSA", "P256"],
            ["store-server-key", "ECDSA", "P256"],
        ]);
        const [ca] = ofType(created("store"), "tls:index/selfSignedCert:SelfSignedCert");
        expect(ca?.inputs.isCaCertificate).toBe(true);
        expect(ca?.inputs.allowedUses).toEqual(["cert_signing", "crl_signing"]);
        const [request] = ofType(created("store"), "tls:index/certRequest:CertRequest");
        expect(request?.inputs.dnsNames).toEqual([
            "mattermost-s3",
            "mattermost-s3.chat",
            "mattermost-s3.chat.svc",
            "mattermost-s3.chat.svc.cluster.local",
        ]);
        const [signed] = ofType(created("store"), "tls:index/locallySignedCert:LocallySignedCert");
        expect(signed?.inputs.allowedUses).toEqual(["digital_signature", "key_encipherment", "server_auth"]);
    });

    it("serves S3 over TLS only, non-root and read-only, keys and identities from Secrets", () => {
        const spec = deployment(registered, "mattermost-s3").inputs.spec.template.spec;
        const [container] = spec.containers;
        expect(container.args).toEqual(
            expect.arrayContaining([
                "-s3.cert.file=/etc/seaweedfs/tls/tls.crt",
                "-s3.key.file=/etc/seaweedfs/tls/tls.key",
            ]),
        );
        expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(spec.securityContext.runAsNonRoot).toBe(true);
        const secrets = ofType(created("store"), "kubernetes:core/v1:Secret");
        expect(secrets.map((secret) => secret.name).sort()).toEqual(["store-identities", "store-tls"]);
        expect(spec.volumes).toEqual(
            expect.arrayContaining([
                { name: "tls", secret: { secretName: "store-tls-auto" } },
                { name: "identities", secret: { secretName: "store-identities-auto" } },
            ]),
        );
    });

    it("puts the company CA first and the store's CA after it in one ConfigMap", async () => {
        const [bundle] = ofType(created("bundle"), "kubernetes:core/v1:ConfigMap");
        expect(bundle?.inputs.data).toEqual({ "ca-bundle.pem": "COMPANY-CA\ncertificate-store-ca\n" });
        expect(await new Promise((resolve) => store.accessKeyId.apply(resolve))).toBe("random-store-access-key");
    });
});

describe("Keycloak", () => {
    beforeAll(async () => {
        const args = {
            namespace: "chat",
            siteUrl: "https://chat.example.com",
            image: "quay.io/keycloak/keycloak:26.5.5",
            applyImage: "node:22.23.5-alpine",
            platform: "kubernetes" as const,
            resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
            database: {
                jdbcUrl: "jdbc:postgresql://db:5432/keycloak?sslmode=verify-full",
                user: "keycloak",
                password: pulumi.secret("pw"),
            },
            realm: '{"realm":"mattermost"}\n',
            hasTestUsers: false,
            production: false,
        };
        const trustBundle = new TrustBundle("kc-trust", { namespace: "chat", certificates: ["CA"] });
        new Keycloak("kc-one", { ...args, replicas: 1 });
        new Keycloak("kc-two", { ...args, replicas: 2, trustBundle, adBindPassword: pulumi.secret("bind") });
        await settled();
    });

    function keycloakDeployment(prefix: string): Registered {
        const found = ofType(created(prefix), "kubernetes:apps/v1:Deployment")[0];
        if (!found) {
            throw new Error(`no Deployment under ${prefix}`);
        }
        return found;
    }

    function environmentOf(prefix: string): Record<string, unknown> {
        const [container] = keycloakDeployment(prefix).inputs.spec.template.spec.containers;
        return Object.fromEntries(
            container.env.map((variable: { name: string; value?: unknown; valueFrom?: unknown }) => [
                variable.name,
                variable.value ?? variable.valueFrom,
            ]),
        );
    }

    it("starts in production mode behind nginx under /auth on the public URL, health on the management port", () => {
        const [container] = keycloakDeployment("kc-one").inputs.spec.template.spec.containers;
        expect(container.args).toEqual(["start"]);
        expect(environmentOf("kc-one")).toMatchObject({
            KC_HOSTNAME: "https://chat.example.com/auth",
            KC_HTTP_RELATIVE_PATH: "/auth",
            KC_HTTP_ENABLED: "true",
            KC_PROXY_HEADERS: "xforwarded",
            KC_HEALTH_ENABLED: "true",
            KC_DB: "postgres",
            KC_DB_URL: "jdbc:postgresql://db:5432/keycloak?sslmode=verify-full",
            KC_DB_PASSWORD: { secretKeyRef: { name: "kc-one-credentials-auto", key: "KC_DB_PASSWORD" } },
            KC_BOOTSTRAP_ADMIN_PASSWORD: {
                secretKeyRef: { name: "kc-one-credentials-auto", key: "KC_BOOTSTRAP_ADMIN_PASSWORD" },
            },
        });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/auth/health/ready", port: "management" });
        expect(container.livenessProbe.httpGet).toEqual({ path: "/auth/health/live", port: "management" });
        expect(container.resources.limits.memory).toBe("2Gi");
    });

    it("is arbitrary-uid safe: no fixed user, writable paths on emptyDirs", () => {
        const pod = keycloakDeployment("kc-one").inputs.spec.template.spec;
        expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.volumes).toEqual([
            { name: "data", emptyDir: { sizeLimit: "512Mi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
        ]);
    });

    it("uses local caches and Recreate for one pod, the distributed cache over jdbc-ping for several", () => {
        expect(environmentOf("kc-one")).toMatchObject({ KC_CACHE: "local" });
        expect(environmentOf("kc-one")).not.toHaveProperty("KC_CACHE_STACK");
        expect(keycloakDeployment("kc-one").inputs.spec.strategy).toEqual({ type: "Recreate" });
        expect(environmentOf("kc-two")).toMatchObject({ KC_CACHE: "ispn", KC_CACHE_STACK: "jdbc-ping" });
        expect(keycloakDeployment("kc-two").inputs.spec.replicas).toBe(2);
    });

    it("trusts the bundle for LDAPS and its database", () => {
        expect(environmentOf("kc-two")).toMatchObject({ KC_TRUSTSTORE_PATHS: "/etc/mattermost/trust/ca-bundle.pem" });
        expect(environmentOf("kc-one")).not.toHaveProperty("KC_TRUSTSTORE_PATHS");
    });

    it("applies the realm with the program beside it in the Node image, secrets from Secrets, never in the text", () => {
        const [job] = ofType(created("kc-two"), "kubernetes:batch/v1:Job");
        const [container] = job?.inputs.spec.template.spec.containers;
        expect(container.image).toBe("node:22.23.5-alpine");
        expect(container.command).toEqual(["node", "/opt/realm/realm-apply.js"]);
        expect(container.envFrom).toEqual([{ secretRef: { name: "kc-two-realm-secrets-auto" } }]);
        expect(container.env).toContainEqual({ name: "KEYCLOAK_URL", value: "http://keycloak:8080/auth" });
        expect(container.env).toContainEqual({ name: "REALM_FILE", value: "/opt/realm/realm.json" });
        for (const [variable, key] of [
            ["ADMIN_PASSWORD", "ADMIN_PASSWORD"],
            ["BOOTSTRAP_ADMIN_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"],
        ]) {
            expect(container.env).toContainEqual({
                name: variable,
                valueFrom: { secretKeyRef: { name: "kc-two-credentials-auto", key } },
            });
        }
        expect(job?.inputs.spec.template.spec.volumes).toContainEqual({
            name: "realm",
            configMap: { name: "kc-two-realm-auto" },
        });
        const [realm] = ofType(created("kc-two"), "kubernetes:core/v1:ConfigMap");
        expect(Object.keys(realm?.inputs.data).sort()).toEqual(["realm-apply.js", "realm.json"]);
        const [realmSecrets] = ofType(created("kc-two"), "kubernetes:core/v1:Secret").filter(
            (secret) => secret.name === "kc-two-realm-secrets",
        );
        expect(Object.keys(realmSecrets?.inputs.stringData.value).sort()).toEqual([
            "AD_BIND_PASSWORD",
            "DEPROVISION_CLIENT_SECRET",
            "MATTERMOST_CLIENT_SECRET",
        ]);
    });
});

describe("NginxFailover", () => {
    const common = {
        namespace: "chat",
        hostname: "chat.example.com",
        image: "nginxinc/nginx-unprivileged:1.28.0",
        guardImage: "node:22.23.5-alpine",
        replicas: 2,
        resources,
        primaryService: "mattermost-1",
        backupService: "mattermost-2",
        mattermostPort: 8065,
        keycloakService: "keycloak",
        keycloakPort: 8080,
        dnsResolver: "kube-dns.kube-system.svc.cluster.local",
        maxBodyBytes: 104857600,
    };
    let openshift: NginxFailover;

    beforeAll(async () => {
        openshift = new NginxFailover("edge-os", { ...common, platform: "openshift" });
        new NginxFailover("edge-one", {
            ...common,
            replicas: 1,
            platform: "kubernetes",
            ingressClassName: "nginx",
            ingressTlsSecretName: "chat-tls",
        });
        new NginxFailover("edge-k8s", {
            ...common,
            platform: "kubernetes",
            ingressClassName: "nginx",
            ingressTlsSecretName: "chat-tls",
        });
        await settled();
    });

    it("exposes OpenShift through an edge Route that redirects HTTP, outlasts the websocket ping and replaces forwarded headers", () => {
        const routes = ofType(registered, "kubernetes:route.openshift.io/v1:Route");
        expect(routes.map((route) => route.name)).toEqual(["edge-os-route"]);
        const route = routes[0]?.inputs;
        expect(route?.metadata.annotations).toEqual({
            "haproxy.router.openshift.io/timeout": `${edgeTimeoutSeconds}s`,
            "haproxy.router.openshift.io/set-forwarded-headers": "replace",
        });
        expect(edgeTimeoutSeconds).toBeGreaterThanOrEqual(240);
        expect(route?.spec.tls).toEqual({ termination: "edge", insecureEdgeTerminationPolicy: "Redirect" });
        expect(route?.spec.host).toBe("chat.example.com");
        expect(created("edge-os").some((resource) => resource.type.endsWith(":Ingress"))).toBe(false);
    });

    it("exposes Kubernetes through an Ingress with the configured class and TLS secret", () => {
        const [ingress] = ofType(created("edge-k8s"), "kubernetes:networking.k8s.io/v1:Ingress");
        expect(ingress?.inputs.spec.ingressClassName).toBe("nginx");
        expect(ingress?.inputs.spec.tls).toEqual([{ hosts: ["chat.example.com"], secretName: "chat-tls" }]);
        expect(ingress?.inputs.spec.rules[0].http.paths[0].backend).toEqual({
            service: { name: "edge-k8s", port: { name: "http" } },
        });
    });

    it("runs unprivileged nginx read-only, with the rendered conf mounted", () => {
        const spec = deployment(registered, "edge-os").inputs.spec;
        expect(spec.replicas).toBe(2);
        const pod = spec.template.spec;
        expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
        expect(pod.containers[0].ports).toEqual([
            { name: "http", containerPort: 8080 },
            { name: "health", containerPort: 8081 },
        ]);
        const [conf] = ofType(created("edge-os"), "kubernetes:core/v1:ConfigMap");
        expect(conf?.inputs.data["nginx.conf"]).toBe(openshift.nginxConf);
        expect(conf?.inputs.data["failover-guard.js"]).toBe(renderGuardScript());
    });

    it("runs the failover guard beside nginx, able to signal it, after an init run that writes the upstream", () => {
        const pod = deployment(registered, "edge-k8s").inputs.spec.template.spec;
        const upstreams = [
            "--primary",
            "mattermost-1.chat.svc.cluster.local:8065",
            "--backup",
            "mattermost-2.chat.svc.cluster.local:8065",
        ];
        const files = ["--upstream-file", "/tmp/guard/upstream.conf", "--nginx-pid-file", "/tmp/nginx.pid"];
        expect(pod.initContainers.map((container: { command: string[] }) => container.command)).toEqual([
            ["node", "/etc/nginx/mattermost/failover-guard.js", ...upstreams, ...files, "--init"],
        ]);
        const guard = pod.containers.find((container: { name: string }) => container.name === "failover-guard");
        expect(guard.command).toEqual(["node", "/etc/nginx/mattermost/failover-guard.js", ...upstreams, ...files]);
        expect(guard.image).toBe("node:22.23.5-alpine");
        expect(guard.securityContext.readOnlyRootFilesystem).toBe(true);
        // The same runtime directory as nginx's: the pid file and the upstream file live there.
        const nginxTmp = pod.containers[0].volumeMounts.find(
            (mount: { mountPath: string }) => mount.mountPath === "/tmp",
        );
        expect(guard.volumeMounts).toContainEqual(nginxTmp);
        expect(pod.shareProcessNamespace).toBe(true);
        // Signals need one uid: fixed to the nginx image's on Kubernetes, assigned to the pod on OpenShift.
        expect(pod.securityContext).toMatchObject({ runAsUser: 101, runAsGroup: 101 });
        expect(deployment(registered, "edge-os").inputs.spec.template.spec.securityContext.runAsUser).toBeUndefined();
    });

    it("keeps one pod up through node drains when it has two, and never blocks a drain with one", () => {
        const [budget] = ofType(created("edge-os"), "kubernetes:policy/v1:PodDisruptionBudget");
        expect(budget?.inputs.spec.minAvailable).toBe(1);
        // A budget of one available pod out of one would refuse every eviction, so no drain could finish.
        expect(ofType(created("edge-one"), "kubernetes:policy/v1:PodDisruptionBudget")).toEqual([]);
    });

    it("creates exactly its children", () => {
        expect(countByType(created("edge-os"))).toEqual({
            "mattermost:k8s:NginxFailover": 1,
            "kubernetes:core/v1:ConfigMap": 1,
            "kubernetes:apps/v1:Deployment": 1,
            "kubernetes:policy/v1:PodDisruptionBudget": 1,
            "kubernetes:core/v1:Service": 1,
            "kubernetes:route.openshift.io/v1:Route": 1,
        });
    });
});
