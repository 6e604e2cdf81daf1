package results

// Neutralize defuses a cell that a spreadsheet would run as a formula: one
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// single quote, which spreadsheets show as text (and import strips again).
// A cell that already starts with quotes before such a character gets one
// more, so that Restore gives back exactly the cell that was neutralised.
func Neutralize(cell string) string {
	if runsAsFormula(cell) {
		return "'" + cell
	}
	return cell
}

// Restore undoes Neutralize: Restore(Neutralize(s)) == s for every s.
func Restore(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && runsAsFormula(cell[1:]) {
		return cell[1:]
	}
	return cell
}

// runsAsFormula reports whether s, after any leading quotes, starts with a
// character a spreadsheet reads as the start of a formula.
func runsAsFormula(s string) bool {
	i := 0
	for i < len(s) && s[i] == '\'' {
		i++
	}
	if i == len(s) {
		return false
	}
	switch s[i] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}
