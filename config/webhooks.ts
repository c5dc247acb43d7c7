/**
 * What identifies a declared incoming webhook: its Pulumi resource name and its key in the secret output
 * `incomingWebhookUrls`. Two declarations with the same of either would collide, so the validation
 * refuses them before the component makes them.
 */
export interface WebhookDeclaration {
    readonly team: string;
    readonly channel: string;
    readonly displayName: string;
}

/** Mattermost's own limit on an incoming webhook's display name (model.IncomingWebhook.IsValid). */
export const webhookDisplayNameMaxLength = 64;

/** The part of the resource name that tells one webhook from another. */
export function webhookResourceSuffix(webhook: WebhookDeclaration): string {
    return `${webhook.team}-${webhook.channel}-${webhook.displayName.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

/** Why the declarations cannot all be made, one message each, or none. */
export function webhookProblems(webhooks: readonly WebhookDeclaration[]): string[] {
    const problems: string[] = [];
    webhooks.forEach((webhook, index) => {
        if ([...webhook.displayName].length > webhookDisplayNameMaxLength) {
            problems.push(
                `"${webhook.displayName}" is longer than the ${webhookDisplayNameMaxLength} characters Mattermost allows a webhook's display name. Shorten it`,
            );
        }
        const earlier = webhooks.slice(0, index);
        const sameName = earlier.find((other) => other.displayName === webhook.displayName);
        const sameResource = earlier.find((other) => webhookResourceSuffix(other) === webhookResourceSuffix(webhook));
        if (sameName) {
            problems.push(
                `"${webhook.displayName}" is the display name of two webhooks, but it is their key in the output incomingWebhookUrls. Give each its own`,
            );
        } else if (sameResource) {
            problems.push(
                `"${webhook.displayName}" and "${sameResource.displayName}" in ${webhook.team}/${webhook.channel} differ only in case or punctuation, which makes them one resource. Name them apart`,
            );
        }
    });
    return problems;
}
