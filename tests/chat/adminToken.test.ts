/**
 * The admin token, made as the stack output `adminTokenCommands` says, with the real mmctl (built from the
 * same module as the server) against the real server's local-mode socket. One rewrite: the commands run
 * `mmctl` through `kubectl exec` in the primary pod, here it runs beside the server with the socket's
 * local path (MMCTL_LOCAL_SOCKET_PATH; in the pod the rendered location is mmctl's default). The token it
 * prints is what `mattermostAdminToken` takes: a system admin's, for the integrations and the
 * deprovisioning job.
 */
import { spawnSync } from "node:child_process";
import { mattermostBuild } from "../../scripts/toolchain/peers";
import { renderStack, type Rendered } from "../helpers/render";
import { Api, startChat, type Chat } from "./fixture";

let rendered: Rendered;
let chat: Chat;

beforeAll(async () => {
    rendered = renderStack("test");
    chat = await startChat(rendered);
});
afterAll(async () => {
    await chat?.stop();
});

/** Runs one line of the output in bash, with kubectl exec replaced by the local mmctl. */
function run(line: string): string {
    const local = line.replace(
        /^kubectl -n \S+ exec deploy\/\S+ -c mattermost -- mmctl /,
        `${mattermostBuild().mmctl} `,
    );
    expect(local).not.toBe(line);
    const result = spawnSync("bash", ["-c", local], {
        encoding: "utf8",
        env: { ...process.env, MMCTL_LOCAL_SOCKET_PATH: chat.primary.socket },
    });
    if (result.status !== 0) {
        throw new Error(`${local} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    return result.stdout;
}

describe("the admin token, as the stack output says to make it", () => {
    it("names the primary pod and the socket the render enables there", () => {
        const commands = String(rendered.outputs.adminTokenCommands).split("\n");
        expect(commands).toHaveLength(3);
        for (const line of commands) {
            expect(line).toMatch(
                /^kubectl -n mattermost-test exec deploy\/mattermost-1 -c mattermost -- mmctl --local /,
            );
        }
        // mmctl --local dials its default socket path: the render's must be it.
        expect(chat.secrets.mattermostSetting("MM_SERVICESETTINGS_LOCALMODESOCKETLOCATION")).toBe(
            "/var/tmp/mattermost_local.socket",
        );
    });

    it("makes a system-admin bot whose token works with EnableUserAccessTokens off", async () => {
        const outputs = String(rendered.outputs.adminTokenCommands).split("\n").map(run);
        const token = /^(\w{26}): pulumi$/m.exec(outputs[2])?.[1];
        expect(token).toBeDefined();
        const me = await new Api(chat.primary, token).call("GET", "/users/me");
        expect(me.status).toBe(200);
        expect(me.json).toMatchObject({ username: "platform-admin", is_bot: true });
        expect(String(me.json.roles).split(" ")).toContain("system_admin");
        // What the integrations and the deprovisioning job need of it.
        expect((await new Api(chat.primary, token).call("GET", "/roles/name/team_user")).status).toBe(200);
        expect((await new Api(chat.primary, token).call("GET", "/users?active=true&per_page=10")).status).toBe(200);
        // The throwaway password opens nothing: a bot cannot log in.
        expect(me.json.auth_service).toBe("");
    });

    it("fails where the old README sent people: local mode cannot create bots", () => {
        const line = String(rendered.outputs.adminTokenCommands)
            .split("\n")[0]
            .replace(/ user create .*$/, " bot create someone");
        expect(() => run(line)).toThrow(/This command cannot be run in local mode/);
    });
});
