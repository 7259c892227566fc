// Package chromium drives Debian's headless Chromium (through chromedp) for the tests that
// look at the public pages as a reader's browser renders them: what the page shows, every
// console message and Content-Security-Policy violation of its load, and a screenshot
// written to test-artifacts/ (git-ignored; $COALITION_TEST_ARTIFACTS moves it). Without
// Chromium the tests fail: .ci/run installs it.
package chromium
