import type { RawConfig } from "../../config/validate";

/** A valid test-stack configuration, as Pulumi hands it over; tests change one thing at a time. */
export const testStackConfig: RawConfig = {
    production: "false",
    hostname: "chat.test.example.com",
    mattermostImage: "mattermost/mattermost-team-edition:10.11.10",
    mattermostEdition: "team",
    ssoMode: "gitlab",
    databaseMode: "inCluster",
    s3Mode: "inCluster",
    keycloakDatabaseMode: "inCluster",
};
