// Package watch reports changed files of a workspace, debounced and batched,
// using fsnotify.
//
// Linux has no recursive watch, so a Watcher adds an inotify watch on every
// directory of the workspace that the walk rules (a *walk.Matcher) do not
// skip, and on every directory created or moved in later. Files can appear
// in a new directory before its watch is added, so a new directory is listed
// once its watch is in place and its files are reported as changed.
//
// Events are drained at once into a pending set keyed by path, so the
// fsnotify channel is never blocked by a slow consumer. When no event has
// arrived for Options.Debounce (or Options.MaxDelay after the first pending
// event, so a steady stream of writes still produces batches), the pending
// set is resolved against the file system and sent as one Batch:
//
//   - a path that exists as a regular file, not skipped by the matcher, is
//     Changed (created, written, or renamed to);
//   - a path that no longer exists and existed before the window opened is
//     Removed, or RemovedDirs when it was a watched directory; a path that
//     was created and removed inside one window (an editor's temporary file)
//     is not reported at all;
//   - chmod-only events, ignored paths and directories themselves (other
//     than removed ones) are never reported.
//
// An atomic save (write ".x.go.tmp" or "x.go~", rename it over x.go)
// therefore comes out as exactly "x.go" in Changed.
//
// A batch with Rescan set replaces the lists: the caller must run a full
// incremental update of the workspace. It is sent when the kernel queue
// overflowed (fsnotify.ErrEventOverflow), when an ignore file (.gitignore,
// .codemuxignore) changed — the Matcher is told through Matcher.Changed and
// the watched directories are brought in line with the new rules — and when
// more than Options.MaxBatch paths are pending at once (a git checkout of a
// large branch), since a walk that compares sizes and times is cheaper than
// a list of that length.
//
// When inotify's per-user watch limit is reached (ENOSPC from
// inotify_add_watch), the directories that could not be watched are counted
// in Stats, a *LimitError naming fs.inotify.max_user_watches and a sample of
// the unwatched directories is sent on Errors, and the Watcher keeps working
// for the directories it does watch. Unwatched directories are tried again at
// the next rescan.
//
// # Usage
//
//	w, err := watch.New(ctx, root, &watch.Options{Matcher: m, Logger: log})
//	if err != nil { ... }
//	defer w.Close()
//	// Create the watcher before the first full update, so nothing changed
//	// between the two is missed.
//	for {
//		select {
//		case b, ok := <-w.Batches():
//			if !ok { return }
//			if b.Rescan { ix.Update(ctx, ...); continue }
//			// remove everything under b.RemovedDirs, then b.Removed,
//			// then index b.Changed
//		case err := <-w.Errors():
//			log.Warn("watching workspace", "err", err)
//		}
//	}
//
// # Concurrency
//
// New starts one goroutine that reads fsnotify's channels, keeps the
// pending set and the watched-directory set, resolves and sends batches; it
// owns all of that state. A batch not yet taken by the consumer is merged
// with the next one (latest state of a path wins), so a slow consumer gets
// fewer, larger batches and the Watcher never blocks on it. Errors are sent
// without blocking and dropped (and counted) when nobody reads them. Stats
// may be called from any goroutine. Close stops the goroutine, releases
// every inotify watch, closes Batches and Errors and waits until all of it
// is done; it may be called more than once.
package watch
