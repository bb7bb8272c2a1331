import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { WorkerError } from '../errors.js';
import type { Skill } from './adapter.js';

/**
 * Writes skills as `<root>/<name>/<file path>`. A file path that leaves its skill's folder
 * is refused: skills come from the payload and must not write elsewhere on the host.
 */
export async function writeSkills(root: string, skills: Skill[]): Promise<void> {
  for (const skill of skills) {
    const skillDir = join(root, skill.name);
    for (const file of skill.files) {
      const target = normalize(join(skillDir, file.path));
      if (!target.startsWith(skillDir + sep)) {
        throw new WorkerError(
          'invalid_payload',
          `invalid payload: clanker.skills: file ${JSON.stringify(file.path)} of skill ${skill.name} leaves the skill's folder`,
          { step: 'initialising_agent' },
        );
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, file.content, { mode: 0o600 });
    }
  }
}
