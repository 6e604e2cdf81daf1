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
	return formulaStart(s[i])
}

// formulaStart reports whether a spreadsheet reads a cell starting with c
// as a formula.
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// mayRunAsFormula reports whether a cell starting with c may need
// Neutralize: it starts a formula, or is a quote that may come before one.
// Every other cell is safe as it is.
func mayRunAsFormula(c byte) bool { return c == '\'' || formulaStart(c) }

// SafeCell is cell made safe to open in a spreadsheet (Neutralize), except
// an E.164 number in a phone column, which stays exactly as it is: a
// leading quote would stop the file re-importing, and +digits is no formula
// a spreadsheet runs. Every file exoroster writes for people to open keeps
// its cells by this rule.
func SafeCell(cell string, phoneColumn bool) string {
	if phoneColumn && IsE164(cell) {
		return cell
	}
	return Neutralize(cell)
}

// IsE164 reports whether s is + and 8 to 15 digits, the first not 0.
func IsE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
