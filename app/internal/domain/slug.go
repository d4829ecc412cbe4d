package domain

import (
	"crypto/rand"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slugs for names in any script: Latin letters lose their accents, kana are spelled in
// romaji, anything else (kanji, emoji) is a word break. A name that leaves nothing, or loses
// part of itself on the way, gets a short random suffix so that "雅 東京チーム" and "雅 大阪"
// never both become "org". The dashboard suggests the same slugs (dashboard/src/slug).

var kanaRomaji = func() map[rune]string {
	m := map[rune]string{}
	rows := []string{"あいうえお", "かきくけこ", "さしすせそ", "たちつてと", "なにぬねの", "はひふへほ", "まみむめも", "らりるれろ",
		"がぎぐげご", "ざじずぜぞ", "だぢづでど", "ばびぶべぼ", "ぱぴぷぺぽ", "ぁぃぅぇぉ"}
	sounds := [][]string{{"a", "i", "u", "e", "o"}, {"ka", "ki", "ku", "ke", "ko"}, {"sa", "shi", "su", "se", "so"},
		{"ta", "chi", "tsu", "te", "to"}, {"na", "ni", "nu", "ne", "no"}, {"ha", "hi", "fu", "he", "ho"},
		{"ma", "mi", "mu", "me", "mo"}, {"ra", "ri", "ru", "re", "ro"}, {"ga", "gi", "gu", "ge", "go"},
		{"za", "ji", "zu", "ze", "zo"}, {"da", "ji", "zu", "de", "do"}, {"ba", "bi", "bu", "be", "bo"},
		{"pa", "pi", "pu", "pe", "po"}, {"a", "i", "u", "e", "o"}}
	for i, row := range rows {
		for j, r := range []rune(row) {
			m[r] = sounds[i][j]
		}
	}
	for r, s := range map[rune]string{'や': "ya", 'ゆ': "yu", 'よ': "yo", 'わ': "wa", 'を': "wo", 'ん': "n", 'ゃ': "ya", 'ゅ': "yu", 'ょ': "yo"} {
		m[r] = s
	}
	return m
}()

func romaji(r rune) (string, bool) {
	if r >= 0x30a1 && r <= 0x30f6 { // katakana: hiragana shifted by 0x60
		r -= 0x60
	}
	s, ok := kanaRomaji[r]
	return s, ok
}

// Transliterate spells a name in ASCII where it can; what it cannot spell becomes a space.
// lossy says whether some letter could not be spelled.
func Transliterate(name string) (out string, lossy bool) {
	rs := []rune(norm.NFKC.String(name))
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 'ー':
			if s := b.String(); s != "" && strings.ContainsRune("aeiou", rune(s[len(s)-1])) {
				b.WriteByte(s[len(s)-1])
			}
			continue
		case r == 'っ' || r == 'ッ':
			if i+1 < len(rs) {
				if next, ok := romaji(rs[i+1]); ok {
					b.WriteByte(next[0])
				}
			}
			continue
		}
		if s, ok := romaji(r); ok {
			if i+1 < len(rs) && strings.ContainsRune("ゃゅょャュョ", rs[i+1]) && strings.HasSuffix(s, "i") {
				small, _ := romaji(rs[i+1])
				if s == "shi" || s == "chi" || s == "ji" {
					b.WriteString(s[:len(s)-1] + small[1:])
				} else {
					b.WriteString(s[:len(s)-1] + small)
				}
				i++
				continue
			}
			b.WriteString(s)
			continue
		}
		for _, d := range norm.NFKD.String(string(r)) {
			switch {
			case d < unicode.MaxASCII:
				b.WriteRune(d)
			case unicode.Is(unicode.Mn, d): // an accent: dropped
			default:
				b.WriteByte(' ')
				if unicode.IsLetter(d) || unicode.IsNumber(d) || unicode.IsSymbol(d) {
					lossy = true
				}
			}
		}
	}
	return b.String(), lossy
}

// Slugify answers a slug the schema accepts (^[a-z0-9][a-z0-9-]{0,62}$) for a name in any
// script, prefix plus a random suffix when nothing of it could be spelled, the spelled part
// plus a suffix when some of it could not.
func Slugify(name, prefix string) string {
	ascii, lossy := Transliterate(name)
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(ascii) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	s := b.String()
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-")
	}
	switch {
	case s == "":
		return prefix + "-" + SlugSuffix()
	case lossy:
		return s + "-" + SlugSuffix()
	}
	return s
}

// SlugSuffix is four random lower-case letters and digits: the suffix that makes a
// generated slug unique again when the plain one is taken.
func SlugSuffix() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	for i := range buf {
		buf[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(buf[:])
}

// CreateWithSlug runs create with the given slug; without one, with a slug made from the
// name, and while that made-up slug is taken (a conflict), again with a random suffix. A slug
// the person chose is never changed behind their back: its conflict is answered as it is.
func CreateWithSlug[T any](given, name, prefix string, create func(slug string) (T, error)) (T, error) {
	if given != "" {
		return create(given)
	}
	base := Slugify(name, prefix)
	slug := base
	for attempt := 0; ; attempt++ {
		v, err := create(slug)
		if err == nil || ErrorCode(err) != CodeConflict || attempt == 4 {
			return v, err
		}
		slug = strings.TrimRight(base[:min(len(base), 57)], "-") + "-" + SlugSuffix()
	}
}
