/* global document */
// @spinnaker/core injects ~165 <style> tags (about 530 KB of CSS) when it is imported. jsdom's
// getComputedStyle, which user-event and getByRole call all the time, gets very slow with them,
// and no test looks at styling, so they are removed before the tests run.

beforeAll(() => {
  document.head.querySelectorAll('style').forEach((style) => style.remove());
});

// Core's class components (react-bootstrap's Overlay in HelpField, StageFailureMessage) use
// componentWillReceiveProps, which React 16.9+ warns about on every render; this plugin has none.
const warn = console.warn;
console.warn = (message, ...rest) => {
  if (typeof message === 'string' && message.includes('componentWillReceiveProps has been renamed')) return;
  warn(message, ...rest);
};
