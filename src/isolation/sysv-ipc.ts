import { readFileSync } from 'node:fs';

/** A SysV IPC object: shared memory segment, message queue or semaphore set. */
export interface IpcObject {
  kind: 'shm' | 'msg' | 'sem';
  id: number;
  /** Owner and creator uids: either may remove it. */
  uid: number;
  cuid: number;
}

const IPCRM_FLAG: Record<IpcObject['kind'], string> = { shm: '-m', msg: '-q', sem: '-s' };

/**
 * Every SysV IPC object of the host's IPC namespace, from `/proc/sysvipc`, which any user
 * may read (its columns are named by its header line).
 */
export function sysvIpcObjects(): IpcObject[] {
  const found: IpcObject[] = [];
  for (const kind of ['shm', 'msg', 'sem'] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/sysvipc/${kind}`, 'utf8');
    } catch {
      continue; // no SysV IPC in this kernel
    }
    const [header = '', ...rows] = text.split('\n').filter((line) => line.trim());
    const columns = header.trim().split(/\s+/);
    const at = (cells: string[], name: string) => Number(cells[columns.indexOf(name)]);
    for (const row of rows) {
      const cells = row.trim().split(/\s+/);
      const id = at(cells, kind === 'shm' ? 'shmid' : kind === 'msg' ? 'msqid' : 'semid');
      const object = { kind, id, uid: at(cells, 'uid'), cuid: at(cells, 'cuid') };
      if (Number.isInteger(object.id) && Number.isInteger(object.uid)) found.push(object);
    }
  }
  return found;
}

/** Those `uid` owns or created: the ones `ipcrm` run as that user may remove. */
export function ipcObjectsOf(uid: number, objects = sysvIpcObjects()): IpcObject[] {
  return objects.filter((object) => object.uid === uid || object.cuid === uid);
}

/** `ipcrm` arguments removing `objects`. */
export function ipcrmArgs(objects: IpcObject[]): string[] {
  return objects.flatMap((object) => [IPCRM_FLAG[object.kind], String(object.id)]);
}

/** A key per object, to tell the ones that appeared during a run (same-user mode). */
export function ipcKey(object: IpcObject): string {
  return `${object.kind}:${object.id}:${object.cuid}`;
}
