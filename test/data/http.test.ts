/**
 * Proxies: NO_PROXY matching, plain HTTP through $HTTP_PROXY as an absolute-URL request, HTTPS
 * through a CONNECT tunnel to $HTTPS_PROXY (a real TLS server with a throw-away certificate), and
 * a proxy that refuses the tunnel. Every server is a real one on 127.0.0.1.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadFile } from "../../src/data/download.js";
import { noProxyMatches, proxyFor, redact } from "../../src/data/http.js";
import type { RemoteFile } from "../../src/data/sources.js";
import { DownloadError } from "../../src/errors.js";
import { bytes, md5, type Server, serve } from "./serve.js";

describe("proxy selection", () => {
  const u = (s: string) => new URL(s);
  it("NO_PROXY matches hosts, subdomains, ports and *", () => {
    expect(noProxyMatches(u("https://www.cs.toronto.edu/x"), "toronto.edu")).toBe(true);
    expect(noProxyMatches(u("https://www.cs.toronto.edu/x"), ".toronto.edu")).toBe(true);
    expect(noProxyMatches(u("https://www.cs.toronto.edu/x"), "*.toronto.edu")).toBe(true);
    expect(noProxyMatches(u("https://nottoronto.edu/x"), "toronto.edu")).toBe(false);
    expect(noProxyMatches(u("http://127.0.0.1:8080/"), "localhost, 127.0.0.1")).toBe(true);
    expect(noProxyMatches(u("http://127.0.0.1:8080/"), "127.0.0.1:9090")).toBe(false);
    expect(noProxyMatches(u("http://127.0.0.1:8080/"), "127.0.0.1:8080")).toBe(true);
    expect(noProxyMatches(u("http://[::1]:8080/"), "[::1]")).toBe(true);
    expect(noProxyMatches(u("https://example.org/"), "*")).toBe(true);
    expect(noProxyMatches(u("https://example.org/"), "")).toBe(false);
  });

  it("picks HTTPS_PROXY for https and HTTP_PROXY for http, lower case first", () => {
    const env = { HTTPS_PROXY: "http://a:3128", http_proxy: "b:8080", HTTP_PROXY: "http://c:1" };
    expect(proxyFor(u("https://x.org/"), env)?.host).toBe("a:3128");
    expect(proxyFor(u("http://x.org/"), env)?.href).toBe("http://b:8080/");
    expect(proxyFor(u("http://x.org/"), { ...env, NO_PROXY: "x.org" })).toBeUndefined();
    expect(proxyFor(u("http://x.org/"), {})).toBeUndefined();
    expect(() => proxyFor(u("http://x.org/"), { HTTP_PROXY: "socks5://p:1080" })).toThrow(
      /only http:\/\/ and https:\/\/ proxies are supported; got socks5:/,
    );
    expect(redact("http://user:secret@proxy:3128/")).toBe("http://user:***@proxy:3128/");
  });
});

describe("downloads through a proxy", () => {
  const body = bytes(300_000, 42);
  const file = (url: string): RemoteFile => ({
    url,
    name: "blob.bin",
    bytes: body.length,
    checksum: { algorithm: "md5", hex: md5(body), source: "test" },
  });
  let work: string;
  let origin: Server;
  let proxy: http.Server;
  let proxyUrl: string;
  const proxied: string[] = [];
  const tunnels = new Set<net.Socket>(); // CONNECT sockets, which server.close does not end

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "senet-proxy-"));
    origin = await serve({ "blob.bin": body });
    // A forward proxy: absolute-URL GETs are relayed, CONNECT opens a raw tunnel.
    proxy = http.createServer((req, res) => {
      proxied.push(`GET ${req.url}`);
      const up = http.get(req.url!, { headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
    });
    proxy.on("connect", (req, sock, head) => {
      proxied.push(`CONNECT ${req.url}`);
      tunnels.add(sock as net.Socket);
      if (req.url?.startsWith("127.0.0.2")) {
        sock.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
      }
      const [host, port] = req.url!.split(":");
      const up = net.connect(Number(port), host!, () => {
        tunnels.add(up);
        sock.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.write(head);
        up.pipe(sock);
        sock.pipe(up);
      });
      up.on("error", () => sock.destroy());
      sock.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await origin.close();
    proxy.closeAllConnections();
    for (const t of tunnels) t.destroy();
    await new Promise((r) => proxy.close(r));
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("sends plain HTTP to $HTTP_PROXY as an absolute URL, and skips it for $NO_PROXY hosts", async () => {
    const url = `${origin.url}blob.bin`;
    proxied.length = 0;
    const r = await downloadFile(file(url), url, path.join(work, "a", "blob.bin"), {
      env: { HTTP_PROXY: proxyUrl },
      progress: null,
    });
    expect(r.digest).toBe(md5(body));
    expect(proxied).toEqual([`GET ${url}`]);
    proxied.length = 0;
    await downloadFile(file(url), url, path.join(work, "b", "blob.bin"), {
      env: { HTTP_PROXY: proxyUrl, NO_PROXY: "localhost,127.0.0.1" },
      progress: null,
    });
    expect(proxied).toEqual([]);
  });

  it("tunnels HTTPS through $HTTPS_PROXY with CONNECT", async () => {
    const key = path.join(work, "key.pem");
    const cert = path.join(work, "cert.pem");
    const made = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { encoding: "utf8" },
    );
    if (made.status !== 0) return; // no openssl here: the tunnel is covered where it exists
    const tlsServer = https.createServer(
      { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
      (_req, res) => {
        res.writeHead(200, { "Content-Length": body.length });
        res.end(body);
      },
    );
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
    const port = (tlsServer.address() as AddressInfo).port;
    try {
      const url = `https://127.0.0.1:${port}/blob.bin`;
      proxied.length = 0;
      const r = await downloadFile(file(url), url, path.join(work, "c", "blob.bin"), {
        env: { HTTPS_PROXY: proxyUrl },
        ca: fs.readFileSync(cert),
        progress: null,
      });
      expect(r.digest).toBe(md5(body));
      expect(proxied).toEqual([`CONNECT 127.0.0.1:${port}`]);
    } finally {
      tlsServer.closeAllConnections();
      await new Promise((r) => tlsServer.close(r));
    }
  });

  it("a proxy that refuses the tunnel is an error naming the proxy and the status", async () => {
    const url = "https://127.0.0.2:1/blob.bin";
    const err = await downloadFile(file(url), url, path.join(work, "d", "blob.bin"), {
      env: { HTTPS_PROXY: proxyUrl },
      progress: null,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toContain(
      `proxy ${proxyUrl}/ refused CONNECT 127.0.0.2:1: HTTP 403`,
    );
  });
});
