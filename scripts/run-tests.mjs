// The whole test suite: lint, type-check, every package's tests, the package checks
// (build + publint + attw), the release checks (scripts/check-release.mjs) and the README code
// blocks type-check (tools/readme-check), then one total line. Old reports are removed first so the total
// counts this run only. Two tasks at a time: CI has two cores, and test suites that start
// servers and workerd time out when ten run at once.
import { execSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, ".test-results"), { recursive: true, force: true });
let failed = false;
try {
  execSync(
    "pnpm turbo run lint typecheck test check:package check:release check:readmes --continue --concurrency=2 --output-logs=errors-only",
    {
      cwd: root,
      stdio: "inherit",
    },
  );
} catch {
  failed = true;
}
try {
  execSync("node scripts/test-summary.mjs", { cwd: root, stdio: "inherit" });
} catch {
  failed = true;
}
process.exit(failed ? 1 : 0);
