import { execFileSync } from 'node:child_process';

/** The end-to-end tests run the built CLI (`dist/cli.js`) as a real process: build it once. */
export default function setup(): void {
  execFileSync('npx', ['tsup', '--silent'], { stdio: 'inherit' });
}
