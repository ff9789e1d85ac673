package logline

// Format is how a view's entries become bytes (docs/formats.md, "Output formats").
type Format uint8

const (
	// FormatRaw concatenates the bodies: the program's bytes as written.
	FormatRaw Format = iota
	// FormatText writes "<TIME> <SOURCE> <piece>\n" for each line of a
	// body, ANSI escapes stripped and control bytes and invalid UTF-8
	// escaped (textview.go).
	FormatText
	// FormatJSON writes one JSON object per entry, with its cursor.
	FormatJSON

	NumFormats = iota
)
