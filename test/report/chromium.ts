// How the report tests launch Debian's Chromium: headless, offline (no
// background networking, which would only produce refused connections on a
// machine with no network). Playwright gives each launch a fresh profile.
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
