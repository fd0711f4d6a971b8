/**
 * One HTTP(S) GET that honours the proxy environment, which Node's fetch ignores: HTTPS through a
 * CONNECT tunnel to $HTTPS_PROXY, plain HTTP as an absolute-URL request to $HTTP_PROXY, and hosts
 * matching $NO_PROXY reached directly. Built on node:http/https/tls only (no npm dependency).
 */
import http from "node:http";
import https from "node:https";
import { isIP, type Socket } from "node:net";
import tls from "node:tls";
import { DownloadError } from "../errors.js";

/** Options of httpGet. */
export interface HttpGetOptions {
  /** Request headers (e.g. Range). */
  headers?: Record<string, string>;
  /** Where the proxy variables are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds without a byte (connect, headers or body) before the request fails. Default 30 000. */
  idleTimeoutMs?: number;
  /** Extra trusted CA certificates in PEM (a site or proxy with its own CA; tests). */
  ca?: string | Buffer;
}

/** The value of the first set variable among `names` (lower-case first, as curl reads them). */
function envValue(env: NodeJS.ProcessEnv, names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v && v.trim() !== "") return v.trim();
  }
  return undefined;
}

/**
 * Whether $NO_PROXY exempts `url`: "*" exempts all; each comma- or space-separated entry
 * ("host", ".host", "*.host", optionally ":port") matches that host and its subdomains. CIDR
 * ranges are not understood (an entry is compared as text).
 */
export function noProxyMatches(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    let entryPort: string | undefined;
    const v6 = /^\[(.*)\](?::(\d+))?$/.exec(entry);
    const v4 = /^([^:]*):(\d+)$/.exec(entry);
    if (v6) [entry, entryPort] = [v6[1]!, v6[2]];
    else if (v4) [entry, entryPort] = [v4[1]!, v4[2]];
    entry = entry.replace(/^\*?\./, "");
    if (entryPort && entryPort !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy to use for `url` under `env`, or undefined to connect directly. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (noProxyMatches(url, envValue(env, ["no_proxy", "NO_PROXY"]))) return undefined;
  const value =
    url.protocol === "https:"
      ? envValue(env, ["https_proxy", "HTTPS_PROXY"])
      : envValue(env, ["http_proxy", "HTTP_PROXY"]);
  if (!value) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(value.includes("://") ? value : `http://${value}`);
  } catch (err) {
    throw new DownloadError(
      `the proxy setting ${JSON.stringify(redact(value))} is not a URL (expected e.g. http://proxy.example:3128)`,
      url.href,
      "network",
      { cause: err },
    );
  }
  if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
    throw new DownloadError(
      `proxy ${redact(proxy.href)}: only http:// and https:// proxies are supported; got ${proxy.protocol}`,
      url.href,
      "network",
    );
  }
  return proxy;
}

/** A URL or proxy setting with any password hidden, for messages. */
export function redact(u: string): string {
  return u.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "Proxy-Authorization": `Basic ${Buffer.from(cred).toString("base64")}` };
}

/** Opens a CONNECT tunnel through `proxy` to host:port; resolves to the raw socket. */
function tunnel(proxy: URL, host: string, port: number, o: HttpGetOptions): Promise<Socket> {
  const mod = proxy.protocol === "https:" ? https : http;
  const target = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const req = mod.request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === "https:" ? 443 : 80),
      method: "CONNECT",
      path: target,
      headers: { Host: target, ...proxyAuth(proxy) },
      ...(o.ca ? { ca: o.ca } : {}),
    });
    req.setTimeout(o.idleTimeoutMs ?? 30_000, () => {
      req.destroy(new Error(`no answer from proxy ${redact(proxy.href)} to CONNECT ${target}`));
    });
    req.once("connect", (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(
        new DownloadError(
          `proxy ${redact(proxy.href)} refused CONNECT ${target}: HTTP ${res.statusCode} ${res.statusMessage ?? ""}`.trim(),
          `https://${target}/`,
          "http",
        ),
      );
    });
    req.once("error", reject);
    req.end();
  });
}

/**
 * Sends a GET for `url` (through the proxy the environment names, if any) and resolves to the
 * response once its headers arrive; the caller reads or discards the body. Redirects are not
 * followed here. Rejects with the raw network error (ECONNREFUSED, ENOTFOUND, a timeout...).
 */
export async function httpGet(url: URL, o: HttpGetOptions = {}): Promise<http.IncomingMessage> {
  const proxy = proxyFor(url, o.env ?? process.env);
  const headers = { "User-Agent": "senet-lab", ...o.headers };
  const tlsOpts = o.ca ? { ca: o.ca } : {};
  let req: http.ClientRequest;
  if (!proxy) {
    const mod = url.protocol === "https:" ? https : http;
    req = mod.request(url, { headers, ...tlsOpts });
  } else if (url.protocol === "http:") {
    const mod = proxy.protocol === "https:" ? https : http;
    req = mod.request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === "https:" ? 443 : 80),
      path: url.href,
      headers: { ...headers, Host: url.host, ...proxyAuth(proxy) },
      ...tlsOpts,
    });
  } else {
    const socket = await tunnel(proxy, url.hostname, Number(url.port || 443), o);
    req = https.request(url, {
      headers,
      createConnection: () =>
        tls.connect({
          socket,
          host: url.hostname,
          // SNI carries host names only (RFC 6066); an IP address is checked against the certificate without it.
          ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
          ...tlsOpts,
        }),
    });
  }
  return new Promise((resolve, reject) => {
    req.setTimeout(o.idleTimeoutMs ?? 30_000, () => {
      req.destroy(
        Object.assign(new Error(`no data for ${(o.idleTimeoutMs ?? 30_000) / 1000} s`), {
          code: "ETIMEDOUT",
        }),
      );
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
}
