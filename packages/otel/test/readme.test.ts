// Type-checks every ```ts block of this README (those marked `no-check` for the workspace's
// README check included) against this package's source and dependencies, with the repo's strict
// compiler options. The blocks are written to .readme-check/ (ignored by git), one module each.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");

// A whole TypeScript program (Agents, LangChain, Hono types): ~9 s alone, much more next to other
// packages' type-checks on a two-core CI machine.
it("every TypeScript block of the README type-checks", { timeout: 180_000 }, () => {
  const lines = readFileSync(join(here, "README.md"), "utf8").split("\n");
  const blocks: { line: number; code: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (!/^```(ts|typescript)\b/.test(lines[index] ?? "")) continue;
    const start = index;
    const code: string[] = [];
    for (index++; index < lines.length && !(lines[index] ?? "").startsWith("```"); index++)
      code.push(lines[index] ?? "");
    blocks.push({ line: start + 1, code: `${code.join("\n")}\nexport {};\n` });
  }
  expect(blocks.length).toBeGreaterThan(5);

  const folder = join(here, ".readme-check");
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const files = blocks.map((block) => {
    const file = join(folder, `block-${block.line}.ts`);
    writeFileSync(file, block.code);
    return file;
  });
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
  if (config === undefined) throw new Error("no tsconfig");
  const program = ts.createProgram(files, {
    ...config.options,
    noEmit: true,
    paths: { "@threadline/otel": [join(here, "src/index.ts")] },
  });
  const errors = ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file !== undefined && files.includes(diagnostic.file.fileName))
    .map((diagnostic) => {
      const file = diagnostic.file as ts.SourceFile;
      const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const block = blocks[files.indexOf(file.fileName)] as { line: number };
      return `README.md:${block.line + 1 + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
    });
  rmSync(folder, { recursive: true, force: true });
  expect(errors).toEqual([]);
});
