// Tag selection as ansible-playbook does it: --tags and --skip-tags, with the special
// tags always, never, all, tagged and untagged.

export interface TagFilter {
  only: string[];
  skip: string[];
}

export function parseTagList(values: string[] | undefined): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    for (const tag of value.split(',')) {
      const trimmed = tag.trim();
      if (trimmed) out.push(trimmed);
    }
  }
  return out;
}

/** Whether a task with these (inherited + own) tags runs under the filter. */
export function tagsSelected(taskTags: ReadonlySet<string>, filter: TagFilter): boolean {
  const only = filter.only.length > 0 ? filter.only : ['all'];
  let selected = false;
  if (taskTags.has('always')) selected = true;
  for (const tag of only) {
    if (tag === 'all' && !taskTags.has('never')) selected = true;
    else if (tag === 'tagged' && taskTags.size > 0 && !taskTags.has('never')) selected = true;
    else if (tag === 'untagged' && taskTags.size === 0) selected = true;
    else if (taskTags.has(tag)) selected = true;
  }
  if (!selected) return false;
  for (const tag of filter.skip) {
    if (tag === 'all' && !taskTags.has('always')) return false;
    if (tag === 'tagged' && taskTags.size > 0) return false;
    if (tag === 'untagged' && taskTags.size === 0) return false;
    if (taskTags.has(tag)) return false;
  }
  return true;
}
