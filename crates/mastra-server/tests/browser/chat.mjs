// Asks the chat page `count to 200`, reloads it in the middle of the answer, and checks
// that the page resumed from its last index: the final text is exactly "1 2 ... 200",
// with nothing duplicated or missing; then `weather in Paris` shows its tool call and
// result. Usage: node chat.mjs <server url> <chromium path>
import { chromium } from "playwright-core";

const [url, executablePath] = process.argv.slice(2);
const N = 200;
const expected = Array.from({ length: N }, (_, i) => String(i + 1)).join(" ");

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
});
const failures = [];
try {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.method() + " " + request.url()));
  page.on("pageerror", (error) => failures.push("page error: " + error.message));
  await page.goto(url);
  await page.fill("#prompt", "count to " + N);
  await page.click("#send");
  const answer = () => document.querySelector(".assistant .text")?.textContent ?? "";
  await page.waitForFunction((f) => (new Function("return " + f)())().split(" ").length >= 30,
    answer.toString(), { timeout: 20000 });
  const before = await page.evaluate(answer);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.status === "idle"
    && document.querySelector(".assistant .part") !== null, null, { timeout: 30000 });
  const after = await page.evaluate(answer);
  const parts = await page.evaluate(() =>
    [...document.querySelectorAll(".assistant")].map((node) => node.textContent));
  const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem("mastra-chat")));
  const resumed = requests.filter((r) => r.includes("/observe?runId=") && !r.includes("offset=0"));
  const words = before.split(" ").length;
  if (words >= N) failures.push("the answer had finished before the reload: " + words + " words");
  if (after !== expected) failures.push("final text differs: " + JSON.stringify(after));
  if (parts.length !== 1) failures.push("expected one answer, got " + parts.length);
  if (!parts[0]?.endsWith("finished: stop")) failures.push("no finish: " + JSON.stringify(parts[0]));
  if (resumed.length === 0) failures.push("never resumed with an offset: " + JSON.stringify(requests));
  if (!saved?.run?.done) failures.push("the run is not marked done in sessionStorage");
  // Tool calls and results are rendered too (and the earlier answer stays as it was).
  await page.fill("#prompt", "weather in Paris");
  await page.click("#send");
  await page.waitForFunction(() => document.body.dataset.status === "idle"
    && document.querySelectorAll(".assistant").length === 2
    && document.querySelectorAll(".assistant")[1].textContent.includes("finished:"), null, { timeout: 20000 });
  const answers = await page.evaluate(() =>
    [...document.querySelectorAll(".assistant")].map((node) => node.textContent));
  if (answers[0] !== parts[0]) failures.push("the first answer changed: " + JSON.stringify(answers[0]));
  for (const needle of ["tool call: weather", "\"city\":\"Paris\"", "tool result: weather", "finished: stop"]) {
    if (!answers[1].includes(needle)) failures.push("weather answer lacks " + needle + ": " + answers[1]);
  }
  console.log(JSON.stringify({ wordsBeforeReload: words, resumed, lastIndex: saved?.run?.lastIndex, weather: answers[1] }));
} catch (error) {
  failures.push(String(error && error.stack || error));
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
