/**
 * The only reader of `pulumi.Config`. Reads every declared key, validates them all at once before any
 * resource exists, and returns one frozen, typed object. Secret values stay Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { configKeyNames, offlineRenderVariable, projectName } from "./keys";
import {
    describeProblems,
    validateStackConfig,
    type ExternalDatabase,
    type ExternalS3,
    type IdentitySettings,
    type InClusterDatabase,
    type InClusterS3,
    type StackSettings,
} from "./validate";
import { envName } from "./mattermostSettings";
import { tarballFileProblem } from "./pushHost";
import type { PushHostSettings } from "./validatePush";

export interface PushSecrets {
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly appleAuthKey?: pulumi.Output<string>;
    readonly appleCertificate?: pulumi.Output<string>;
    readonly firebaseServiceAccount?: pulumi.Output<string>;
}

export interface S3Credentials {
    readonly accessKeyId: pulumi.Output<string>;
    readonly secretAccessKey: pulumi.Output<string>;
}

export interface StackConfig extends StackSettings {
    readonly database: InClusterDatabase | (ExternalDatabase & { readonly password: pulumi.Output<string> });
    /** External S3 carries its keys, unless the pods use their IAM identity. */
    readonly fileStorage: InClusterS3 | (ExternalS3 & { readonly credentials?: S3Credentials });
    /** Password of elkUsername, when log shipping authenticates. */
    readonly elkPassword?: pulumi.Output<string>;
    readonly identity: Omit<IdentitySettings, "database"> & {
        readonly database: InClusterDatabase | (ExternalDatabase & { readonly password: pulumi.Output<string> });
        /** Set when Keycloak federates Active Directory. */
        readonly adBindPassword?: pulumi.Output<string>;
    };
    readonly push?: PushHostSettings & { readonly secrets: PushSecrets };
    /** The license file's text (MM_LICENSE), for a licensed stack. */
    readonly mattermostLicense?: pulumi.Output<string>;
    /** mattermostSecretSettings' values, by their `MM_*` variable; names plain, values secret. */
    readonly mattermostSecretSettings: Readonly<Record<string, pulumi.Output<string>>>;
    /** A Mattermost system-admin bot's token, once configured: the deprovisioning job and the integrations. */
    readonly mattermostAdminToken?: pulumi.Output<string>;
}

/**
 * A RunError, so that `pulumi preview`/`up` print the problems alone and exit, as the CLI does for its own
 * config errors, instead of an "unhandled exception" with the program's stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(problems: readonly string[]) {
        super(describeProblems(problems));
        this.name = "ConfigError";
    }
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value)) {
        for (const inner of Object.values(value)) {
            deepFreeze(inner);
        }
        Object.freeze(value);
    }
    return value;
}

/** Each secret setting's value as a secret Output, keyed by the variable Mattermost reads it from. */
function secretSettingValues(config: pulumi.Config, paths: readonly string[]): Record<string, pulumi.Output<string>> {
    if (paths.length === 0) {
        return {};
    }
    const values = config
        .requireSecret("mattermostSecretSettings")
        .apply((text) => JSON.parse(text) as Record<string, string>);
    return Object.fromEntries(
        paths.map((path) => {
            const [section = "", key = ""] = path.split(".");
            return [envName(section, key), values.apply((byPath) => byPath[path] ?? "")];
        }),
    );
}

export function loadStackConfig(): StackConfig {
    const config = new pulumi.Config(projectName);
    const prefix = `${projectName}:`;
    const allKeys = Object.keys(pulumi.runtime.allConfig());
    const setKeys = allKeys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
    const raw: Record<string, string | undefined> = {};
    // Secrets are read as text for validation only; they leave this function as secret Outputs.
    for (const key of new Set([...configKeyNames, ...setKeys])) {
        raw[key] = config.get(key);
    }
    // Keys under other prefixes by their full name, without their values: the validation refuses those
    // under a prefix nothing reads (a misspelt project name), which the SDK would silently ignore.
    for (const key of allKeys.filter((key) => !key.startsWith(prefix))) {
        raw[key] = "";
    }
    // The SDK marks isConfigSecret @internal, but it is how the SDK itself knows a key is encrypted.
    const { isConfigSecret } = runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean };
    const secretKeys = new Set(Object.keys(raw).filter((key) => isConfigSecret(`${prefix}${key}`)));
    const result = validateStackConfig(raw, secretKeys);
    const offline = process.env[offlineRenderVariable] === "true";
    const problems = [
        ...result.errors,
        ...[...result.missingSecrets, ...(offline ? [] : result.missingValues)].map((missing) => missing.message),
    ];
    // The offline render copies nothing, so it needs no tarball on this machine (a reviewer's has none).
    const tarballProblem = !offline && result.settings?.push && tarballFileProblem(result.settings.push.tarball);
    if (tarballProblem) {
        problems.push(tarballProblem);
    }
    if (problems.length > 0 || !result.settings) {
        throw new ConfigError(problems);
    }
    for (const warning of result.warnings) {
        void pulumi.log.warn(warning);
    }
    const settings = result.settings;
    return deepFreeze({
        ...settings,
        database:
            settings.database.mode === "external"
                ? { ...settings.database, password: config.requireSecret("databasePassword") }
                : settings.database,
        fileStorage:
            settings.fileStorage.mode === "external" && settings.fileStorage.hasCredentials
                ? {
                      ...settings.fileStorage,
                      credentials: {
                          accessKeyId: config.requireSecret("s3AccessKeyId"),
                          secretAccessKey: config.requireSecret("s3SecretAccessKey"),
                      },
                  }
                : settings.fileStorage,
        elkPassword: settings.logShipping?.username ? config.requireSecret("elkPassword") : undefined,
        identity: {
            ...settings.identity,
            database:
                settings.identity.database.mode === "external"
                    ? { ...settings.identity.database, password: config.requireSecret("keycloakDatabasePassword") }
                    : settings.identity.database,
            adBindPassword: settings.identity.directory ? config.requireSecret("adBindPassword") : undefined,
        },
        mattermostLicense:
            settings.mattermost.licensed && settings.mattermost.edition === "enterprise"
                ? config.requireSecret("mattermostLicense")
                : undefined,
        mattermostSecretSettings: secretSettingValues(config, settings.mattermost.secretSettings),
        mattermostAdminToken: settings.integrations.hasToken ? config.requireSecret("mattermostAdminToken") : undefined,
        push: settings.push && {
            ...settings.push,
            secrets: {
                sshPrivateKey: config.requireSecret("pushSshPrivateKey"),
                appleAuthKey: settings.push.proxy.apple?.token ? config.requireSecret("pushAppleAuthKey") : undefined,
                appleCertificate:
                    settings.push.proxy.apple && !settings.push.proxy.apple.token
                        ? config.requireSecret("pushAppleCertificate")
                        : undefined,
                firebaseServiceAccount: settings.push.proxy.android
                    ? config.requireSecret("pushFirebaseServiceAccount")
                    : undefined,
            },
        },
    });
}
