package handler

import "github.com/dotenv/apikeys/shared/fault"

// errTeamImmutable refuses moving a project: the hierarchy never moves, so
// the scopes recorded in keys stay right.
func errTeamImmutable() error {
	return fault.Invalid("team_id", "a project cannot move to another team")
}
