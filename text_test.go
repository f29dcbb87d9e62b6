package parley

import "testing"

// TestCleanText: names in any one script are clean; controls, bidi
// overrides, invisible format characters and Latin/Greek/Cyrillic
// look-alikes mixed in one word are not (I2, I3; found by securitytest).
func TestCleanText(t *testing.T) {
	for s, want := range map[string]bool{
		"Alice Smith": true, "José Müller": true, "Алексей Петров": true, "Ελένη": true, "张伟 Zhang Wei": true,
		"محمد": true, "山田 太郎": true, "iPhone用户": true, "R&D / Ops-2": true, "👨\u200d👩\u200d👧 family": true,
		"می\u200cخواهم": true, "": true,
		"tab\there": false, "nl\n": false, "nul\x00": false, "esc\x1b[31m": false, "c1\u0085": false,
		"alice\u202egnp.exe": false, "\u2066admin\u2069": false, "x\u200fy": false,
		"ad\u200bmin": false, "Security\u200d Team": false, "IT\ufeffDesk": false, "\u2060Helpdesk": false, "Fin\u00adance": false,
		"P\u0430yPal": false, "\u0410dmin Team": false, "\u0391pple": false, "Syst\u0435m": false,
		"bad \xff utf8": false,
	} {
		if got := CleanText(s); got != want {
			t.Errorf("CleanText(%q) = %v, want %v", s, got, want)
		}
	}
}
