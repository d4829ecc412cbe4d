// What the first route costs to download: the entry script and the modules it preloads,
// as listed in the built index.html, gzipped.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export interface Sizes {
  initialJs: { files: string[]; raw: number; gzip: number };
  css: { raw: number; gzip: number };
  allJs: { files: number; raw: number; gzip: number };
}

const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;

export function measureSizes(dist: string): Sizes {
  const html = readFileSync(join(dist, "index.html"), "utf8");
  const refs = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((m) => m[1]!);
  const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
  const read = (ref: string) => readFileSync(join(dist, ref.replace(/^\//, "")));
  const sum = (bufs: Buffer[]) => ({ raw: bufs.reduce((a, b) => a + b.length, 0), gzip: bufs.reduce((a, b) => a + gz(b), 0) });
  const all = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js"));
  return {
    initialJs: { files: refs, ...sum(refs.map(read)) },
    css: sum(css.map(read)),
    allJs: { files: all.length, ...sum(all.map((f) => readFileSync(join(dist, "assets", f)))) },
  };
}
