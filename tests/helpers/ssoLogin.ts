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
 * requests to the loopback server with the headers the router sets (config/nginx.ts passes them on).
 */
import * as http from "node:http";

export interface PublicRoute {
    /** The chat's public origin, e.g. https://chat.test.example.com. */
    readonly publicOrigin: string;
    /**
     * Where requests for the public origin go here: Keycloak itself (http://127.0.0.1:8080, with the
     * headers nginx's /auth/realms/ location passes), or the rendered nginx in front of Mattermost and
     * Keycloak.
     */
    readonly origin: string;
    /** Through nginx (the default), or straight to the pod, as a port-forward reaches it. */
    readonly direct?: boolean;
}

/**
 * Requests to the public origin as the router passes them on: the public Host header (which Mattermost
 * builds its OAuth redirect URI from) and, unless direct, the X-Forwarded-* headers. Sent with node:http,
 * since fetch does not let a caller set Host; redirects are not followed. Anything fetch takes as a body
 * (text, a form) is serialised as fetch would.
 */
export function publicFetch(route: PublicRoute) {
    const host = new URL(route.publicOrigin).host;
    return async (url: string, init: RequestInit = {}): Promise<Response> => {
        if (!url.startsWith(route.publicOrigin)) {
            throw new Error(`the login left the chat's public origin: ${url}`);
        }
        const target = new URL(route.origin + url.slice(route.publicOrigin.length));
        const method = init.method ?? "GET";
        const prepared = new Request(target, { method, headers: init.headers, body: init.body });
        const body =
            init.body === undefined || init.body === null ? undefined : Buffer.from(await prepared.arrayBuffer());
        const headers: Record<string, string> = { host };
        prepared.headers.forEach((value, name) => (headers[name] = value));
        if (!route.direct) {
            Object.assign(headers, {
                "x-forwarded-proto": "https",
                "x-forwarded-host": host,
                "x-forwarded-port": "443",
                "x-forwarded-for": "10.60.255.10",
            });
        }
        return new Promise<Response>((resolve, reject) => {
            const outgoing = http.request(
                {
                    host: target.hostname,
                    port: target.port,
                    path: target.pathname + target.search,
                    method,
                    headers,
                    timeout: 30000,
                },
                (incoming) => {
                    const chunks: Buffer[] = [];
                    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
                    incoming.on("error", reject);
                    incoming.on("end", () => {
                        const answer = new Headers();
                        for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
                            answer.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
                        }
                        const status = incoming.statusCode ?? 0;
                        const empty = [204, 205, 304].includes(status);
                        resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: answer }));
                    });
                },
            );
            outgoing.on("timeout", () => outgoing.destroy(new Error(`${method} ${url} timed out`)));
            outgoing.on("error", reject);
            outgoing.end(body);
        });
    };
}

/** A browser's cookies for one site, enough for Keycloak's login pages and Mattermost's. */
export class CookieJar {
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

    get(name: string): string | undefined {
        return this.cookies.get(name);
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
 * The jar keeps the browser's cookies, Keycloak's session cookie among them, for a later visit.
 */
export async function browserLogin(
    send: ReturnType<typeof publicFetch>,
    authorizationUrl: string,
    credentials: { username: string; password: string },
    jar = new CookieJar(),
): Promise<URL> {
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
    jar.take(submitted);
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

/**
 * A person pressing the GitLab button of the real Mattermost, as a browser does: Mattermost's login URL
 * sends the browser to Keycloak with Mattermost's own state (and its state cookie); the browser logs in
 * there and comes back to Mattermost's completion URL, where the server itself exchanges the code and
 * reads the user endpoint (through the public hostname), makes or finds the account, and sets the session
 * cookie. Returns the session's token; throws with Mattermost's error page address when it refuses.
 */
export async function chatLogin(
    send: ReturnType<typeof publicFetch>,
    publicOrigin: string,
    credentials: { username: string; password: string },
): Promise<{ token: string; userId: string }> {
    const jar = new CookieJar();
    const start = await send(`${publicOrigin}/oauth/gitlab/login`);
    jar.take(start);
    const authorizationUrl = start.headers.get("location");
    if (start.status !== 302 || !authorizationUrl) {
        throw new Error(`Mattermost's GitLab login answered ${start.status}: ${await start.text()}`);
    }
    const back = await browserLogin(send, authorizationUrl, credentials);
    const done = await send(back.toString(), { headers: { cookie: jar.header() } });
    jar.take(done);
    const token = jar.get("MMAUTHTOKEN");
    const userId = jar.get("MMUSERID");
    if (!token || !userId) {
        const page = done.headers.get("location") ?? (await done.text()).slice(0, 500);
        throw new Error(`Mattermost completed no login (${done.status}): ${decodeURIComponent(page)}`);
    }
    return { token, userId };
}
