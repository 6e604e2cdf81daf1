package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/roster"
)

func (a *app) validateCommand() *cobra.Command {
	var defaultRegion string
	cmd := &cobra.Command{
		Use:   "validate ROSTER.csv",
		Short: "Check a roster offline and list what is wrong with which row",
		Long: `Checks every row the way import would, without credentials or network:
names, E.164 phone numbers, emails, roles, and people listed twice. Prints a
table of problems (row, column, value, reason) and exits 3 if there are any.`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := roster.CheckRegion(defaultRegion); err != nil {
				return usageErr("--default-region: %v", err)
			}
			return a.runValidate(cmd.OutOrStdout(), args[0], roster.Options{DefaultRegion: defaultRegion})
		},
	}
	cmd.Flags().StringVar(&defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	return cmd
}

func (a *app) runValidate(stdout io.Writer, path string, opts roster.Options) error {
	f, err := os.Open(path)
	if err != nil {
		return abortErr(fmt.Errorf("cannot read %s: %w", path, err))
	}
	defer f.Close()
	r, err := roster.NewReader(f)
	if err != nil {
		return abortErr(fmt.Errorf("cannot read %s: %w", path, err))
	}
	h := r.Header()
	if err := h.CheckForImport(); err != nil {
		return abortErr(fmt.Errorf("%s: %w", path, err))
	}
	reportHeader(a.env.Stderr, h)
	// Rows are checked on every CPU, and come back in order.
	ck := roster.NewChecker(r, roster.NewValidator(h, opts), 0)
	defer ck.Close()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	rows, bad, problems := 0, 0, 0
	for {
		c, err := ck.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return abortErr(fmt.Errorf("cannot read %s: %w", path, err))
		}
		rows++
		if len(c.Problems) == 0 {
			continue
		}
		if bad == 0 {
			fmt.Fprintln(tw, "ROW\tCOLUMN\tVALUE\tREASON")
		}
		bad++
		for _, p := range c.Problems {
			problems++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.Record.Row, p.Column, displayValue(p.Value), p.Reason)
		}
	}
	tw.Flush()
	if bad == 0 {
		fmt.Fprintf(stdout, "%s: %d rows, all valid\n", path, rows)
		return nil
	}
	fmt.Fprintf(stdout, "\n%s: %d rows, %d invalid (%d problems)\n", path, rows, bad, problems)
	return exitCodeOnly(ExitRowsNotDone)
}

// maxDisplayRunes is the most of a value the table shows: a pasted
// paragraph must not push the reason off the screen.
const maxDisplayRunes = 60

// displayValue keeps a table cell on one line, visibly empty, and at most
// maxDisplayRunes characters of the value, the cut marked with "…".
func displayValue(s string) string {
	if s == "" {
		return "(empty)"
	}
	if r := []rune(s); len(r) > maxDisplayRunes {
		return fmt.Sprintf("%q…", string(r[:maxDisplayRunes]))
	}
	return fmt.Sprintf("%q", s)
}
