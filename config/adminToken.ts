/**
 * How the system-admin bot and its access token (`mattermostAdminToken`, which the deprovisioning job and
 * the integrations use) are made: with `mmctl --local` in the primary pod, over the local-mode socket
 * the render enables there. Local mode cannot create bots, and over the API bot creation is refused
 * unless EnableBotAccountCreation is on, which this program leaves off; so a user is made a system admin
 * and converted to a bot (a bot cannot log in with a password, so the throwaway one made on the
 * operator's machine unlocks nothing), and a token is generated for it, which bots get whatever
 * EnableUserAccessTokens says. Proven against the real server (tests/chat/adminToken.test.ts).
 */

/** The bot's username. */
export const adminBotUsername = "platform-admin";

/**
 * The three commands, one a line, for a POSIX shell with kubectl (or oc) logged in to the cluster. The
 * last one prints `<token>: <description>`.
 */
export function adminTokenCommands(namespace: string, primaryDeployment: string, hostname: string): string {
    const mmctl = `kubectl -n ${namespace} exec deploy/${primaryDeployment} -c mattermost -- mmctl --local`;
    // The password must pass any password policy (length and every character class) and is never used.
    const throwawayPassword = `"$(openssl rand -base64 24)Aa1!"`;
    return [
        `${mmctl} user create --username ${adminBotUsername} --email ${adminBotUsername}@${hostname} --password ${throwawayPassword} --system-admin`,
        `${mmctl} user convert ${adminBotUsername} --bot`,
        `${mmctl} token generate ${adminBotUsername} pulumi`,
    ].join("\n");
}
