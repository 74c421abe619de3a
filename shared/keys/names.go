package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// DeletedName names a scope node that no longer exists.
const DeletedName = "(deleted)"

// Names are the names of the nodes keys are scoped to, by node id: what an
// answer shows next to a scope's id. A node that no longer exists is named
// DeletedName.
type Names map[string]string

// Path names a node: the team's name for a team, otherwise the names from
// the project down ("billing / web / production"); "" for the organization.
// A node missing from n is named DeletedName.
func (n Names) Path(node authz.Node) string {
	l := node.Level()
	if l == authz.LevelOrganization {
		return ""
	}
	from := authz.LevelProject
	if l == authz.LevelTeam {
		from = authz.LevelTeam
	}
	parts := make([]string, 0, 3)
	for lv := from; lv <= l; lv++ {
		nm, ok := n[node.At(lv)]
		if !ok {
			nm = DeletedName
		}
		parts = append(parts, nm)
	}
	return strings.Join(parts, " / ")
}

// Names reads the names of every node the scopes of ks name (each node
// once), in organization org. The answers of the key routes show them; the
// wire layer only shapes them.
func (s *Service) Names(ctx context.Context, org string, ks ...*Key) (Names, error) {
	return s.Complete(ctx, org, nil, ks...)
}

// Complete is Names for an answer whose service call already read some of
// the nodes (Created.Names, Update's names): those in known are not read
// again. known is not changed.
func (s *Service) Complete(ctx context.Context, org string, known Names, ks ...*Key) (Names, error) {
	names := make(Names, len(known))
	for id, n := range known {
		names[id] = n
	}
	for _, k := range ks {
		for _, g := range k.Grants {
			l := g.Scope.Level()
			if l == authz.LevelOrganization {
				continue
			}
			from := authz.LevelProject
			if l == authz.LevelTeam {
				from = authz.LevelTeam
			}
			for lv := from; lv <= l; lv++ {
				id := g.Scope.At(lv)
				if _, ok := names[id]; ok {
					continue
				}
				node, err := s.dir.GetNode(ctx, org, id)
				switch {
				case errors.Is(err, fault.ErrNotFound):
					names[id] = DeletedName
				case err != nil:
					return nil, fmt.Errorf("keys: naming %s %s: %w", lv, id, err)
				default:
					names[id] = node.Name
				}
			}
		}
	}
	return names, nil
}
