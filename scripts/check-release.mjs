// Release checks that need no build, run by `npm test` (turbo root task `//#check:release`):
//
// 1. The pending release plan (`changeset status --output`) releases no package as a major and
//    none at >= 1.0.0. A peer on a 0.x core makes changesets bump every dependent a major when the
//    core's minor leaves the peer range, which is how 0.0.0 → 0.1.0 turned into 1.0.0.
//    To release a major on purpose, list the package in THREADLINE_INTENDED_MAJORS (comma-separated).
// 2. Peer ranges on other @threadline packages are plain `^x.y.z` (not `workspace:^`, see
//    .changeset/README.md), include the version that package will have after the release, and a
//    package whose peer range was raised past the current version is itself being released (so
//    the new range ships).
// 3. Every publishable package ships the root LICENSE (a byte-identical copy beside its package.json).
// 4. No published README (packages/*/README.md) links to a relative path: on npm it resolves to nothing.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const problems = [];

const packages = readdirSync(join(root, "packages"))
  .map((folder) => ({ folder, file: join(root, "packages", folder, "package.json") }))
  .filter(({ file }) => existsSync(file))
  .map(({ folder, file }) => ({ folder, json: JSON.parse(readFileSync(file, "utf8")) }))
  .filter(({ json }) => json.private !== true);
const byName = new Map(packages.map((entry) => [entry.json.name, entry]));

// 1. The release plan. Without pending changesets there is nothing to release (and `changeset
// status` would fail on a "Version Packages" branch, whose packages changed without changesets).
const pending = readdirSync(join(root, ".changeset")).filter((name) => name.endsWith(".md") && name !== "README.md");
let plan = { releases: [] };
if (pending.length > 0) {
  const scratch = mkdtempSync(join(tmpdir(), "threadline-release-"));
  try {
    const output = join(scratch, "plan.json");
    try {
      execFileSync(join(root, "node_modules", ".bin", "changeset"), ["status", `--output=${output}`], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      console.error(String(error.stdout ?? ""), String(error.stderr ?? ""));
      throw new Error("`changeset status` failed (output above)");
    }
    plan = JSON.parse(readFileSync(output, "utf8"));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
const intendedMajors = new Set((process.env.THREADLINE_INTENDED_MAJORS ?? "").split(",").filter(Boolean));
const nextVersion = new Map(packages.map(({ json }) => [json.name, json.version]));
for (const release of plan.releases) {
  if (release.type === "none") continue;
  nextVersion.set(release.name, release.newVersion);
  if (intendedMajors.has(release.name)) continue;
  if (release.type === "major" || major(release.newVersion) >= 1) {
    problems.push(
      `${release.name} would be released as ${release.newVersion} (${release.type} bump from ${release.oldVersion}); ` +
        `if that is intended, set THREADLINE_INTENDED_MAJORS=${release.name}`,
    );
  }
}
const releasing = new Set(plan.releases.filter((release) => release.type !== "none").map((release) => release.name));

// 2. Peer ranges on our own packages.
for (const { json } of packages) {
  for (const [name, range] of Object.entries(json.peerDependencies ?? {})) {
    if (!byName.has(name)) continue;
    const caret = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
    if (caret === null) {
      problems.push(`${json.name}: peer ${name} "${range}" must be a plain ^x.y.z range (see .changeset/README.md)`);
      continue;
    }
    const target = nextVersion.get(name);
    if (!satisfiesCaret(target, caret)) {
      problems.push(
        `${json.name}: peer ${name} "${range}" does not accept ${name}@${target} (the version after the pending release); raise it and add a changeset for ${json.name}`,
      );
    }
    const current = byName.get(name).json.version;
    if (!satisfiesCaret(current, caret) && !releasing.has(json.name)) {
      problems.push(
        `${json.name}: peer ${name} "${range}" was raised past ${current} but ${json.name} has no changeset, so the new range would never ship`,
      );
    }
  }
}

// 3. LICENSE in every package.
const license = readFileSync(join(root, "LICENSE"), "utf8");
for (const { folder } of packages) {
  const copy = join(root, "packages", folder, "LICENSE");
  if (!existsSync(copy) || readFileSync(copy, "utf8") !== license) {
    problems.push(
      `packages/${folder}/LICENSE is missing or differs from the root LICENSE: cp LICENSE packages/${folder}/`,
    );
  }
}

// 4. No relative links in published READMEs.
for (const { folder } of packages) {
  const path = `packages/${folder}/README.md`;
  if (!existsSync(join(root, path))) continue;
  for (const { line, target } of relativeLinks(readFileSync(join(root, path), "utf8"))) {
    problems.push(
      `${path}:${line}: relative link "${target}" is broken on npm; use https://github.com/threadline-dev/threadline/blob/main/…`,
    );
  }
}

if (problems.length > 0) {
  console.error(`[threadline] release check failed:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  process.exit(1);
}
const summary = plan.releases
  .filter((release) => release.type !== "none")
  .map((release) => `${release.name} ${release.oldVersion} → ${release.newVersion}`);
console.log(`[threadline] release check passed: ${summary.length === 0 ? "nothing pending" : summary.join(", ")}`);

function major(version) {
  return Number(version.split(".")[0]);
}

/** `^x.y.z` as npm reads it, on release versions: 0.0.z is exact, 0.y.z stays in 0.y, x.y.z stays in x. */
function satisfiesCaret(version, [, x, y, z]) {
  const [a, b, c] = version.split(/[.-]/).map(Number);
  const at = [Number(x), Number(y), Number(z)];
  const notBelow = a !== at[0] ? a > at[0] : b !== at[1] ? b > at[1] : c >= at[2];
  if (!notBelow) return false;
  if (at[0] > 0) return a === at[0];
  if (at[1] > 0) return a === 0 && b === at[1];
  return a === 0 && b === 0 && c === at[2];
}

/** Markdown inline links and images, reference definitions and HTML href/src, outside code fences. */
function relativeLinks(markdown) {
  const found = [];
  let fenced = false;
  for (const [index, text] of markdown.split("\n").entries()) {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) continue;
    const prose = text.replace(/`[^`]*`/g, "");
    const targets = [
      ...Array.from(prose.matchAll(/\]\(\s*<?([^)\s>]+)/g), (match) => match[1]),
      ...Array.from(prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/g), (match) => match[1]),
      ...Array.from(prose.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g), (match) => match[1]),
    ];
    for (const target of targets) {
      if (!/^(https?:|mailto:|#)/i.test(target)) found.push({ line: index + 1, target });
    }
  }
  return found;
}
