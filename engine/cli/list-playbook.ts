// --list-hosts, --list-tasks and --list-tags, printed as ansible-playbook prints them.
import type { TaskItem } from '../load/model.js';
import type { LoadedRun, PlaybookRequest } from '../run/playbook-runner.js';
import { tagsSelected } from '../run/tags.js';

interface ListWhat {
  hosts: boolean;
  tasks: boolean;
  tags: boolean;
}

interface ListedTask {
  name: string;
  tags: string[];
}

function flatten(items: TaskItem[], inherited: string[], out: ListedTask[]): void {
  for (const item of items) {
    const tags = [...new Set([...inherited, ...(item.kw.tags ?? [])])];
    if (item.type === 'task') {
      if (item.action !== 'meta') out.push({ name: item.name, tags });
    } else if (item.type === 'block') {
      flatten([...item.block, ...item.rescue, ...item.always], tags, out);
    } else {
      out.push({ name: item.name, tags });
      if (item.type === 'include_tasks' && item.tasks) flatten(item.tasks, tags, out);
    }
  }
}

const tagList = (tags: Iterable<string>) => `[${[...tags].sort().join(', ')}]`;

export function listPlaybook(req: PlaybookRequest, loaded: LoadedRun, what: ListWhat): string {
  const lines: string[] = ['', `playbook: ${req.playbookFile}`];
  loaded.playbook.plays.forEach((play, index) => {
    const playTags = play.kw.tags ?? [];
    lines.push('', `  play #${index + 1} (${play.hosts}): ${play.name}\tTAGS: ${tagList(playTags)}`);
    if (what.hosts) {
      let hosts = loaded.inventory.select(play.hosts);
      if (req.limit) {
        const allowed = new Set(loaded.inventory.select(req.limit));
        hosts = hosts.filter((h) => allowed.has(h));
      }
      lines.push(`    pattern: ${JSON.stringify(play.hosts.split(',')).replace(/"/g, "'")}`, `    hosts (${hosts.length}):`);
      for (const host of hosts) lines.push(`      ${host}`);
    }
    const tasks: ListedTask[] = [];
    flatten([...play.pre_tasks, ...play.roles, ...play.tasks, ...play.post_tasks], playTags, tasks);
    const selected = tasks.filter((t) => tagsSelected(new Set(t.tags), req.tags));
    if (what.tasks) {
      lines.push('    tasks:');
      for (const task of selected) lines.push(`      ${task.name}\tTAGS: ${tagList(task.tags)}`);
    }
    if (what.tags) {
      lines.push(`      TASK TAGS: ${tagList(new Set(selected.flatMap((t) => t.tags)))}`);
    }
  });
  return lines.join('\n') + '\n';
}
