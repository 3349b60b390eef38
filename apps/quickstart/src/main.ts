import { runQuickstart } from "./story.js";

await runQuickstart((line) => console.log(line));
