import type { Reporter, TestModule } from 'vitest/node';

/** How many of the slowest test files the run ends by naming. */
const SLOWEST = 10;

/**
 * Closes the run with the slowest test files (where a faster suite would start),
 * then one plain line, `N passed, N failed, N skipped`, after vitest's own summary:
 * a line any CI log reader understands without colours.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
    }
    const slowest = testModules
      .map((module) => ({ file: module.relativeModuleId, project: module.project.name, seconds: module.diagnostic().duration / 1000 }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, SLOWEST);
    console.log(`\nThe ${slowest.length} slowest test files (tests and hooks):`);
    for (const { file, project, seconds } of slowest) console.log(`${seconds.toFixed(1).padStart(7)} s  ${project.padEnd(5)}  ${file}`);
    console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
