/**
 * Compares an object of the offline render with the same object as the API server holds it after a real
 * `pulumi up`: everything the render says must be there with the same value; what the server adds (its
 * defaults, status, managed fields, the provider's labels) is ignored. What the render cannot know is
 * matched loosely: its placeholders (`<secret:...>`, `<certificate:...>`, ...) stand for any text, and
 * auto-generated names are mapped to the real ones first.
 */

/** The render's stand-ins for values only a real deployment has (scripts/offlineRender.ts). */
const placeholderPattern = /<(?:secret|certificate|public-key|certificate-request|serialized provider sha256):[^<>]*>/g;

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether a rendered string, placeholders and all, describes the live one. */
export function stringMatches(rendered: string, live: string): boolean {
    if (!placeholderPattern.test(rendered)) {
        return rendered === live;
    }
    placeholderPattern.lastIndex = 0;
    const pieces = rendered.split(placeholderPattern).map(escapeRegExp);
    return new RegExp(`^${pieces.join("[\\s\\S]+?")}$`).test(live);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function text(value: Json): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Kubernetes quantities and ports may come back as numbers or strings: "1" and 1 are one value. */
function scalarMatches(rendered: Json, live: Json): boolean {
    if (typeof rendered === "string" && typeof live === "string") {
        return stringMatches(rendered, live);
    }
    return text(rendered) === text(live);
}

/**
 * Every difference, as "path: what", between what the render says and what is live. A Secret's
 * `stringData` is compared with the `data` the server keeps (base64).
 */
export function differences(rendered: Json, live: Json, at = ""): string[] {
    if (rendered === null || typeof rendered !== "object") {
        return live !== null && typeof live === "object"
            ? [`${at}: rendered ${JSON.stringify(rendered)}, live is an object`]
            : scalarMatches(rendered, live)
              ? []
              : [`${at}: rendered ${JSON.stringify(rendered)}, live ${JSON.stringify(live)}`];
    }
    if (Array.isArray(rendered)) {
        if (!Array.isArray(live) || live.length !== rendered.length) {
            return [`${at}: rendered ${rendered.length} items, live ${JSON.stringify(live)?.slice(0, 200)}`];
        }
        return rendered.flatMap((item, index) => differences(item, live[index] ?? null, `${at}[${index}]`));
    }
    if (live === null || typeof live !== "object" || Array.isArray(live)) {
        return [`${at}: rendered an object, live ${JSON.stringify(live)?.slice(0, 200)}`];
    }
    return Object.entries(rendered).flatMap(([key, value]) => {
        if (key === "stringData" && live.stringData === undefined) {
            return differences(value, decodedData(live.data), `${at}.stringData`);
        }
        if (!(key in live)) {
            // The API server omits empty values (omitempty): a rendered `value: ""` is stored as no value.
            return isEmpty(value) ? [] : [`${at}.${key}: rendered ${JSON.stringify(value)?.slice(0, 200)}, not live`];
        }
        return differences(value, live[key] ?? null, `${at}.${key}`);
    });
}

function isEmpty(value: Json): boolean {
    return (
        value === null ||
        value === "" ||
        (Array.isArray(value) && value.length === 0) ||
        (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)
    );
}

function decodedData(data: Json | undefined): Json {
    if (data === null || data === undefined || typeof data !== "object" || Array.isArray(data)) {
        return data ?? null;
    }
    return Object.fromEntries(
        Object.entries(data).map(([key, value]) => [key, Buffer.from(text(value), "base64").toString("utf8")]),
    );
}

/** Replaces every rendered auto-name by the real one, wherever it appears (references included). */
export function withRealNames<T extends Json>(rendered: T, names: ReadonlyMap<string, string>): T {
    if (names.size === 0) {
        return rendered;
    }
    const pattern = new RegExp(
        [...names.keys()]
            .map(escapeRegExp)
            .sort((a, b) => b.length - a.length)
            .join("|"),
        "g",
    );
    return JSON.parse(JSON.stringify(rendered).replace(pattern, (name) => names.get(name) ?? name)) as T;
}
