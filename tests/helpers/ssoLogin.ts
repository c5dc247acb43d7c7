/**
 * A person logging in to Mattermost through Keycloak, as a browser and Mattermost's own OAuth code do it,
 * against a Keycloak that serves the chat's public URL from loopback.
 *
 * Mattermost's GitLab provider (server/channels/app/oauth.go, oauthproviders/gitlab): the authorization
 * request carries response_type, client_id, redirect_uri (always `/signup/gitlab/complete`) and state, and
 * no scope; the code is exchanged with client_id and client_secret in the form (client_secret_post); then
 * the configured user endpoint is read with the access token. Its OpenID provider (ssoMode openid) reads
 * the discovery document first and asks for `openid profile email`.
 *
 * Keycloak writes the public URL (KC_HOSTNAME) into its pages and redirects; `PublicRoute` sends such
 * requests to the loopback server with the headers nginx sets for /auth/realms/ (config/nginx.ts).
 */
export interface PublicRoute {
    /** The chat's public origin, e.g. https://chat.test.example.com. */
    readonly publicOrigin: string;
    /** Where Keycloak listens, e.g. http://127.0.0.1:8080. */
    readonly keycloakOrigin: string;
    /** Through nginx (the default), or straight to the pod, as a port-forward reaches it. */
    readonly direct?: boolean;
}

export function publicFetch(route: PublicRoute) {
    const host = new URL(route.publicOrigin).host;
    return (url: string, init: RequestInit = {}): Promise<Response> => {
        if (!url.startsWith(route.publicOrigin)) {
            throw new Error(`the login left the chat's public origin: ${url}`);
        }
        const headers = new Headers(init.headers);
        if (!route.direct) {
            headers.set("x-forwarded-proto", "https");
            headers.set("x-forwarded-host", host);
            headers.set("x-forwarded-port", "443");
            headers.set("x-forwarded-for", "10.60.255.10");
        }
        return fetch(route.keycloakOrigin + url.slice(route.publicOrigin.length), {
            ...init,
            headers,
            redirect: "manual",
        });
    };
}

/** A browser's cookies for one site, enough for Keycloak's login pages. */
class CookieJar {
    private readonly cookies = new Map<string, string>();

    take(response: Response): void {
        for (const line of response.headers.getSetCookie()) {
            const [pair] = line.split(";");
            const separator = pair.indexOf("=");
            this.cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1));
        }
    }

    header(): string {
        return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    }
}

export class LoginRefused extends Error {
    constructor(
        message: string,
        readonly page: string,
    ) {
        super(message);
    }
}

const decodeEntities = (text: string) =>
    text
        .replace(/&amp;/g, "&")
        .replace(/&#x3d;/gi, "=")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'");

/** The message Keycloak's login page shows under the form (its v2 theme nests it in spans). */
function pageMessage(html: string): string {
    const at = html.search(/id="input-error|kc-feedback-text/);
    if (at < 0) {
        return "no message";
    }
    const text = html
        .slice(at, at + 800)
        .replace(/^[^>]*>/, "")
        .replace(/<[^>]*>/g, " ");
    return decodeEntities(text.replace(/\s+/g, " ").trim()).split(/(?<=\.) /)[0] ?? "";
}

/**
 * The browser part: opens the authorization URL, fills in Keycloak's login form, follows the redirect
 * back to Mattermost and returns the code. Refused logins throw LoginRefused with Keycloak's message.
 */
export async function browserLogin(
    send: ReturnType<typeof publicFetch>,
    authorizationUrl: string,
    credentials: { username: string; password: string },
): Promise<URL> {
    const jar = new CookieJar();
    const page = await send(authorizationUrl);
    jar.take(page);
    const html = await page.text();
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (page.status !== 200 || !action) {
        throw new LoginRefused(`the authorization request answered ${page.status} without a login form`, html);
    }
    const submitted = await send(decodeEntities(action), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header() },
        body: new URLSearchParams({ ...credentials, credentialId: "" }).toString(),
    });
    const location = submitted.headers.get("location");
    if (submitted.status !== 302 || !location) {
        const body = await submitted.text();
        const message = pageMessage(body);
        throw new LoginRefused(`Keycloak refused the login (${submitted.status}): ${message}`, body);
    }
    return new URL(location);
}

export interface ClientSettings {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly redirectUri: string;
    readonly authorizationEndpoint: string;
    readonly tokenEndpoint: string;
    readonly userEndpoint: string;
    /** Mattermost's GitLab provider sends none. */
    readonly scope?: string;
}

/** What Mattermost's server does around the browser: the authorization URL, the code exchange, the user API. */
export async function mattermostLogin(
    send: ReturnType<typeof publicFetch>,
    client: ClientSettings,
    credentials: { username: string; password: string },
): Promise<{ user: Record<string, unknown>; userText: string; accessToken: string }> {
    const state = "state-from-mattermost";
    const query = new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        state,
        ...(client.scope ? { scope: client.scope } : {}),
    });
    const back = await browserLogin(send, `${client.authorizationEndpoint}?${query.toString()}`, credentials);
    if (`${back.origin}${back.pathname}` !== client.redirectUri || back.searchParams.get("state") !== state) {
        throw new Error(`Keycloak sent the browser to ${back.toString()}, not back to ${client.redirectUri}`);
    }
    const tokenResponse = await send(client.tokenEndpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
            grant_type: "authorization_code",
            code: back.searchParams.get("code") ?? "",
            redirect_uri: client.redirectUri,
            client_id: client.clientId,
            client_secret: client.clientSecret,
        }).toString(),
    });
    const token = (await tokenResponse.json()) as { access_token?: string; error?: string };
    if (!token.access_token) {
        throw new Error(`the token request answered ${tokenResponse.status}: ${JSON.stringify(token)}`);
    }
    const userResponse = await send(client.userEndpoint, {
        headers: { authorization: `Bearer ${token.access_token}` },
    });
    const userText = await userResponse.text();
    if (userResponse.status !== 200) {
        throw new Error(`the user endpoint answered ${userResponse.status}: ${userText}`);
    }
    return { user: JSON.parse(userText) as Record<string, unknown>, userText, accessToken: token.access_token };
}
