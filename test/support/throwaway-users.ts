import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A system account made for one test and removed after it. */
export interface ThrowawayUser {
  name: string;
  uid: number;
  gid: number;
}

/** Users (and a sudo rule) a test creates as root and removes afterwards. */
export class ThrowawayUsers {
  private readonly users: string[] = [];
  private readonly sudoers: string[] = [];
  private readonly tag = randomBytes(3).toString('hex');

  /** Creates `vbt-<role>-<tag>` with its own group, optionally in the groups of `memberOf`. */
  async create(role: string, memberOf: ThrowawayUser[] = []): Promise<ThrowawayUser> {
    const name = `vbt-${role}-${this.tag}`;
    const groups = memberOf.length > 0 ? ['-G', memberOf.map((user) => user.name).join(',')] : [];
    await exec('useradd', ['--system', '--user-group', '--no-create-home', ...groups, name]);
    this.users.push(name);
    const [uid, gid] = await Promise.all([
      exec('id', ['-u', name]).then((out) => Number(out.stdout.trim())),
      exec('id', ['-g', name]).then((out) => Number(out.stdout.trim())),
    ]);
    return { name, uid, gid };
  }

  /** A sudoers rule that lets `worker` run commands as `agent` only, without a password. */
  async allowSudo(worker: ThrowawayUser, agent: ThrowawayUser): Promise<void> {
    const path = `/etc/sudoers.d/vbt-${this.tag}`;
    await writeFile(path, `${worker.name} ALL=(${agent.name}) NOPASSWD: ALL\n`, { mode: 0o440 });
    this.sudoers.push(path);
    await exec('visudo', ['-c', '-f', path]);
  }

  async removeAll(): Promise<void> {
    for (const path of this.sudoers) await rm(path, { force: true });
    for (const name of this.users.reverse()) {
      await exec('pkill', ['-KILL', '-u', name]).catch(() => {});
      await exec('userdel', [name]).catch(() => {});
      await exec('groupdel', [name]).catch(() => {});
    }
  }
}

/** The command prefix that runs a process as `user` with its groups (setpriv, util-linux). */
export function asUser(user: ThrowawayUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'];
}
