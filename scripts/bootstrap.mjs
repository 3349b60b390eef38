// Makes `npm run quickstart` and `npm test` work on a fresh machine that has only Node and npm:
// installs the pnpm version pinned in package.json if it is missing, then the workspace's
// dependencies if they are missing or older than the lockfile.
import { execSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { packageManager } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pnpmVersion = packageManager.split("@")[1];

function run(command) {
  execSync(command, { cwd: root, stdio: "inherit" });
}

function installedPnpmVersion() {
  try {
    return execSync("pnpm --version", { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

if (installedPnpmVersion() !== pnpmVersion) {
  console.log(`[threadline] installing pnpm ${pnpmVersion} with npm`);
  run(`npm install --global pnpm@${pnpmVersion} --no-fund --no-audit`);
}

const marker = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lockfile).mtimeMs;
if (stale) {
  console.log("[threadline] installing dependencies with pnpm");
  run(`pnpm install --frozen-lockfile --prefer-offline`);
}
