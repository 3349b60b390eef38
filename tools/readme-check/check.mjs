// Type-checks every ```ts / ```typescript block of every README (root, packages/*, apps/*) with
// the repo's strict compiler options, against the packages' source (`threadline-source`
// condition), and reports errors at the README's own path and line.
//
// Each block is one module in .generated/ (ignored by git), so blocks never see each other's
// names. Two ways to annotate a block, both invisible on GitHub and npm:
//
//   <!-- readme-check: workers
//   declare const runner: Runner;           ← any lines here are a prelude, checked before the block
//   -->
//   ```ts
//
// - flags on the first line: `workers` checks the block with @cloudflare/workers-types instead
//   of @types/node (the two declare the same globals differently, so they are two programs);
// - ```ts no-check skips a block that is intentionally not a program (a value's shape, a diff).
//   Use it sparingly: a prelude that declares what the block assumes keeps it checked.
// Fences are CommonMark's: at most three spaces of indentation (four make an indented code block).
// - fixtures/ holds the modules examples import by relative path (`./my-store.js`).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const generated = join(here, ".generated");

const readmes = [
  "README.md",
  ...["packages", "apps", "tools"].flatMap((folder) =>
    readdirSync(join(root, folder), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${folder}/${entry.name}/README.md`),
  ),
].filter((path) => {
  try {
    readFileSync(join(root, path));
    return true;
  } catch {
    return false;
  }
});

/** @typedef {{ readme: string, fenceLine: number, code: string, prelude: string[], preludeLine: number, environment: "node" | "workers" }} Block */

/** @returns {Block[]} */
function blocksOf(readme) {
  const lines = readFileSync(join(root, readme), "utf8").split("\n");
  const blocks = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^( {0,3})(`{3,}|~{3,})\s*(ts|typescript)\b(.*)$/.exec(lines[index]);
    if (fence === null) {
      const other = /^ {0,3}(`{3,}|~{3,})/.exec(lines[index]);
      if (other !== null) index = closingFence(lines, index, other[1]); // skip non-TS fences whole
      continue;
    }
    const end = closingFence(lines, index, fence[2]);
    const flags = fence[4].trim().split(/\s+/);
    if (!flags.includes("no-check")) {
      const annotation = annotationBefore(lines, index);
      blocks.push({
        readme,
        fenceLine: index + 1,
        code: lines
          .slice(index + 1, end)
          .map((line) => line.slice(Math.min(fence[1].length, line.length - line.trimStart().length)))
          .join("\n"),
        prelude: annotation?.prelude ?? [],
        preludeLine: annotation?.line ?? index + 1,
        environment: annotation?.flags.includes("workers") ? "workers" : "node",
      });
    }
    index = end;
  }
  return blocks;
}

function closingFence(lines, start, marker) {
  for (let index = start + 1; index < lines.length; index++) {
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[index]);
    if (close !== null && close[1][0] === marker[0] && close[1].length >= marker.length) return index;
  }
  throw new Error(`unclosed code fence at line ${start + 1}`);
}

/** The `<!-- readme-check: … -->` comment right above a fence (blank lines allowed between). */
function annotationBefore(lines, fenceIndex) {
  let index = fenceIndex - 1;
  while (index >= 0 && lines[index].trim() === "") index--;
  if (index < 0 || !lines[index].trim().endsWith("-->")) return undefined;
  let start = index;
  while (start >= 0 && !lines[start].includes("<!--")) start--;
  if (start < 0) return undefined;
  const text = lines.slice(start, index + 1).join("\n");
  const match = /<!--\s*readme-check:([^\n]*?)(?:-->|\n([\s\S]*?)-->)/.exec(text);
  if (match === null) return undefined;
  const prelude = (match[2] ?? "").split("\n");
  if (prelude.at(-1)?.trim() === "") prelude.pop();
  return { flags: match[1].trim().split(/\s+/), prelude, line: start + 2 };
}

rmSync(generated, { recursive: true, force: true });
mkdirSync(generated, { recursive: true });
// Modules the examples import by relative path (`./my-store.js`): declarations only.
cpSync(join(here, "fixtures"), generated, { recursive: true });
const blocks = readmes.flatMap(blocksOf);
/** @type {Map<string, Block & { preludeLength: number }>} */
const byFile = new Map();
for (const block of blocks) {
  const name = `${block.readme.replace(/\/?README\.md$/, "").replace(/\//g, "-") || "root"}-${block.fenceLine}.ts`;
  const file = join(generated, name);
  writeFileSync(file, [...block.prelude, block.code, ""].join("\n"));
  byFile.set(file, { ...block, preludeLength: block.prelude.length });
}

const config = ts.getParsedCommandLineOfConfigFile(
  join(here, "tsconfig.json"),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    },
  },
);
const failures = [];
let outside = 0;
for (const environment of ["node", "workers"]) {
  const files = [...byFile].filter(([, block]) => block.environment === environment).map(([file]) => file);
  if (files.length === 0) continue;
  const types = environment === "workers" ? ["@cloudflare/workers-types"] : ["node"];
  const program = ts.createProgram(files, { ...config.options, types });
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    // Errors inside the packages' own source are their typecheck task's to report.
    if (diagnostic.file !== undefined && !byFile.has(diagnostic.file.fileName)) outside++;
    else failures.push(describe(diagnostic));
  }
}
if (outside > 0)
  console.warn(
    `[threadline] readme-check: ${outside} error(s) outside README blocks ignored (see the packages' typecheck)`,
  );
failures.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));

if (failures.length > 0) {
  console.error(failures.join("\n"));
  console.error(`[threadline] readme-check: ${failures.length} error(s) in README code blocks`);
  process.exit(1);
}
console.log(`[threadline] readme-check: ${blocks.length} TypeScript blocks in ${readmes.length} READMEs type-check`);

function describe(diagnostic) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n    ");
  const code = `TS${diagnostic.code}`;
  if (diagnostic.file === undefined) return `error ${code}: ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const block = byFile.get(diagnostic.file.fileName);
  if (block === undefined)
    return `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1} error ${code}: ${message}`;
  const inPrelude = line < block.preludeLength;
  const readmeLine = inPrelude ? block.preludeLine + line : block.fenceLine + 1 + line - block.preludeLength;
  return `${block.readme}:${readmeLine}:${character + 1} error ${code}: ${message}${inPrelude ? " (in the readme-check prelude)" : ""}`;
}
