package target

import "testing"

func TestParseStatWithParenthesesInTheName(t *testing.T) {
	raw := []byte("4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10")
	st, err := parseStat(4242, raw)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != 'S' || st.PPID != 1 || st.PGID != 4242 || st.StartTime != 987654 {
		t.Errorf("parsed %+v", st)
	}
	if _, err := parseStat(1, []byte("1 (x) S 0")); err == nil {
		t.Error("a short stat parsed")
	}
}

func TestParseStatusIDs(t *testing.T) {
	uids, gids, groups, err := parseStatusIDs([]byte("Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 2000 \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 3 || uids[0] != 1000 || gids[2] != 1000 || len(groups) != 2 || groups[1] != 2000 {
		t.Errorf("uids %v gids %v groups %v", uids, gids, groups)
	}
}
