/**
 * The edge in front of nginx: the Ingress (platform kubernetes) or the OpenShift Route, and the
 * annotations each carries: the ones the chat needs from its controller, which the program sets, and the
 * stack's own (`edgeAnnotations`: cert-manager's issuer, another controller's settings).
 */

/** Above Mattermost's 60 s websocket ping and its 300 s request timeouts. */
export const edgeTimeoutSeconds = 600;

/** What the program sets on each edge, and why; a stack's annotation may not change these. */
export function programAnnotations(platform: "kubernetes" | "openshift"): Readonly<Record<string, string>> {
    return platform === "openshift"
        ? {
              // Above Mattermost's 60 s websocket ping; the default 30 s would cut every socket.
              "haproxy.router.openshift.io/timeout": `${edgeTimeoutSeconds}s`,
              // The router appends by default; Mattermost and Keycloak must see one value.
              "haproxy.router.openshift.io/set-forwarded-headers": "replace",
          }
        : {
              // Read by ingress-nginx, ignored by other controllers, whose own settings must allow the
              // same: idle timeouts above the websocket ping, and no body limit of their own (0), since
              // nginx behind them enforces the one derived from MaxFileSize.
              "nginx.ingress.kubernetes.io/proxy-read-timeout": String(edgeTimeoutSeconds),
              "nginx.ingress.kubernetes.io/proxy-send-timeout": String(edgeTimeoutSeconds),
              "nginx.ingress.kubernetes.io/proxy-body-size": "0",
              "nginx.ingress.kubernetes.io/ssl-redirect": "true",
          };
}

/** Kubernetes' qualified name: an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters. */
const annotationName =
    /^(?:([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)\/)?([A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

/** What is wrong with the stack's annotations, each naming the annotation and the fix. */
export function edgeAnnotationProblems(
    platform: "kubernetes" | "openshift",
    annotations: Readonly<Record<string, string>>,
): string[] {
    const own = programAnnotations(platform);
    const edge = platform === "openshift" ? "the Route" : "the Ingress";
    return Object.keys(annotations).flatMap((name) => {
        const match = annotationName.exec(name);
        if (!match || (match[1]?.length ?? 0) > 253 || (match[2]?.length ?? 0) > 63) {
            return [
                `"${name}" is not an annotation name Kubernetes takes: an optional DNS prefix and /, then up to 63 letters, digits, -, _ or ., e.g. cert-manager.io/cluster-issuer`,
            ];
        }
        if (name in own) {
            return [
                `"${name}" is set by the program on ${edge} (to ${JSON.stringify(own[name])}), which the chat's websockets and uploads need. Remove it`,
            ];
        }
        return [];
    });
}

/** Every annotation of the edge: the program's, then the stack's. */
export function edgeAnnotations(
    platform: "kubernetes" | "openshift",
    annotations: Readonly<Record<string, string>>,
): Record<string, string> {
    return { ...programAnnotations(platform), ...annotations };
}
