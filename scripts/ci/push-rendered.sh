#!/usr/bin/env bash
# Pushes one part of the rendered Kubernetes manifests to the branch Argo CD syncs: dist/<part> of
# a verified synth output replaces dist/<part> on <branch>; nothing else on the branch changes, so
# an environment's manifests reach the cluster only when its own deploy job pushes them.
# Deploys of several environments push the same branch in parallel: a rejected push is fetched
# again and retried. Run from a checkout whose `origin` may be pushed to.
#
# usage: push-rendered.sh <dist-dir> <part> <branch> <source-sha>
#   <part>  an environment name, or argocd (a directory name under <dist-dir>)
# Exit codes: 0 pushed, or already there; 1 every push was rejected; 2 usage or nothing to push.
set -euo pipefail

dist=${1:-}
part=${2:-}
branch=${3:-}
source_sha=${4:-}
if [ -z "$dist" ] || [ -z "$part" ] || [ -z "$branch" ] || [ -z "$source_sha" ]; then
  echo "usage: push-rendered.sh <dist-dir> <part> <branch> <source-sha>" >&2
  exit 2
fi
case "$part" in
  */* | .* | *..*)
    echo "push-rendered: part must be one directory name under $dist (an environment or argocd), got '$part'" >&2
    exit 2
    ;;
esac
if [ ! -d "$dist/$part" ]; then
  echo "push-rendered: $dist/$part does not exist: the synth output has no manifests for $part" >&2
  exit 2
fi
dist=$(cd "$dist" && pwd)
attempts=${PUSH_RENDERED_ATTEMPTS:-5}
work=$(mktemp -d)
rmdir "$work"
cleanup() {
  git worktree remove --force "$work" >/dev/null 2>&1 || rm -rf "$work"
  git worktree prune
}
trap cleanup EXIT

for attempt in $(seq 1 "$attempts"); do
  cleanup
  if git fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch" 2>/dev/null; then
    git worktree add --quiet --detach "$work" "origin/$branch"
  else
    # The first push ever: a branch of its own history, holding only the rendered manifests.
    git worktree add --quiet --detach "$work" HEAD
    git -C "$work" checkout --quiet --orphan "push-rendered-$$-$attempt"
    git -C "$work" read-tree --empty
    find "$work" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  fi
  rm -rf "${work:?}/dist/$part"
  mkdir -p "$work/dist"
  cp -R "$dist/$part" "$work/dist/$part"
  git -C "$work" add -A "dist/$part"
  if git -C "$work" diff --cached --quiet; then
    echo "dist/$part unchanged on $branch"
    exit 0
  fi
  git -C "$work" -c user.name="github-actions" -c user.email="github-actions@users.noreply.github.com" \
    commit --quiet -m "Render dist/$part from $source_sha"
  if git -C "$work" push --quiet origin "HEAD:refs/heads/$branch" 2>/dev/null; then
    echo "dist/$part pushed to $branch (from $source_sha)"
    exit 0
  fi
  echo "push-rendered: push of dist/$part to $branch rejected (attempt $attempt of $attempts): another deploy pushed first; retrying on the newer $branch" >&2
done
echo "push-rendered: every push of dist/$part to $branch was rejected; re-run this job" >&2
exit 1
