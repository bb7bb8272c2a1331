/**
 * The two shell scripts the worker runs AS THE AGENT USER after the agent has ended, in a
 * staging git dir the worker made (stage-dir.ts), with the worker's git hardening and no
 * secret in their environment. Paths cross between them and the worker only as
 * NUL-separated files in the staging dir, so no file name can break a line or an argument.
 */

/**
 * Survey: what the agent left, before git reads any file's content, in one walk of the tree
 * (GNU find, its `,` operator). $1 the checkout, $2 the staging dir, $3 the per-file limit,
 * $4 the agent user's uid.
 * - Directories and files of its own that it made unreadable to itself are given back their
 *   owner bits (modes of directories and the read bit are not recorded by git).
 * - FIFOs, sockets and devices, and links to FIFOs and sockets, are listed and removed: git
 *   cannot commit them, and opening one (a FIFO named `.gitignore`) would block.
 * - Every `.git` below the top (directory, file, link or anything else) is listed, and not
 *   walked into: nested repositories.
 * (find reports what it cannot read as errors: what the agent user cannot read, git cannot
 * read either, so those are not the worker's concern here.)
 * - Regular files over the per-file limit are listed with their full size (holes count):
 *   if any is found, git does not look further, since it would read them.
 * - Otherwise the changed files (modified, deleted, untracked and not ignored) are listed,
 *   and the size of each.
 */
export const SURVEY_SCRIPT = `[ -x "$1" ] || chmod u+rwx "$1" 2>/dev/null
cd "$1" || exit 97
S="$2"
me="$4"
find . -path ./.git -prune -o \\( -iname .git -fprint0 "$S/nested" -prune \\) -o \\( \\
  \\( -type d ! -perm -u=rwx -user "$me" -exec chmod u+rwx {} \\; \\) , \\
  \\( -type f ! -perm -u=r -user "$me" -exec chmod u+r {} + \\) , \\
  \\( \\( -type p -o -type s -o -type b -o -type c -o -xtype p -o -xtype s \\) -fprint0 "$S/special" \\) , \\
  \\( -type f -size +"$3"c -fprintf "$S/big" '%s %p\\0' \\) \\) 2>/dev/null
if [ -s "$S/special" ]; then xargs -0 rm -f -- < "$S/special" 2>/dev/null; fi
if [ -s "$S/big" ]; then exit 0; fi
git ls-files -z --modified --others --exclude-standard > "$S/changed" || exit 98
if [ -s "$S/changed" ]; then xargs -0 stat --printf '%s %n\\0' -- < "$S/changed" > "$S/sizes" 2>/dev/null; fi
exit 0
`;

/**
 * Stage: $1 the checkout, $2 the staging dir, $3 the base commit, $4 the agent's own HEAD
 * ('' when it made no commit), $5 the agent's object directory. Adds everything the pathspec
 * file (written by the worker: `.` less the worker's own files and nested repositories)
 * names, writes the tree, a throwaway commit of it on the base (so that `pack-objects --revs`
 * packs only what is new), and the pack of those new objects. The agent's commit messages are read too, as
 * text to keep in the worker's commit (the agent's objects are only read, never taken over).
 */
export const STAGE_SCRIPT = `set -e
cd "$1" || exit 97
S="$2"
git add --all --pathspec-from-file="$S/pathspec" --pathspec-file-nul
tree=$(git write-tree)
commit=$(printf 'staged change\\n' | git commit-tree "$tree" -p "$3")
printf '%s %s\\n' "$tree" "$commit" > "$S/staged"
printf '%s\\n^%s\\n' "$commit" "$3" | git pack-objects --revs --stdout -q > "$S/change.pack"
if [ -n "$4" ]; then
  GIT_ALTERNATE_OBJECT_DIRECTORIES="$5" git log -z --format=%B -n 50 "$3..$4" -- > "$S/messages" 2>/dev/null || rm -f "$S/messages"
fi
exit 0
`;
