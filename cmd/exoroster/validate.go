package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/roster"
)

func (a *app) validateCommand() *cobra.Command {
	var defaultRegion, target string
	cmd := &cobra.Command{
		Use:   "validate ROSTER.csv",
		Short: "Check a roster offline and list what is wrong with which row",
		Long: `Checks every row the way import would, without credentials or network:
names, E.164 phone numbers, emails, roles, and people listed twice. Prints a
table of problems (row, column, value, reason) and exits 3 if there are any.
With --target webrtc the rows are checked as a WebRTC app's roster: user_id
(required), name, phone and sip_enabled.`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := roster.CheckRegion(defaultRegion); err != nil {
				return usageErr("--default-region: %v", err)
			}
			t, err := a.pickTarget(target)
			if err != nil {
				return err
			}
			return a.runValidate(cmd.OutOrStdout(), args[0], a.importRows(t, &apiFlags{}), roster.Options{DefaultRegion: defaultRegion})
		},
	}
	cmd.Flags().StringVar(&defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	registerTarget(cmd.Flags(), &target)
	return cmd
}

func (a *app) runValidate(stdout io.Writer, path string, target importer.Rows, opts roster.Options) error {
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
	if err := target.CheckHeader(h); err != nil {
		return abortErr(fmt.Errorf("%s: %w", path, err))
	}
	reportColumns(a.env.Stderr, target.Unknown(h), h.Notes)
	v := target.NewChecker(h, opts)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	rows, bad, problems := 0, 0, 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return abortErr(fmt.Errorf("cannot read %s: %w", path, err))
		}
		rows++
		_, probs := v.Check(rec)
		if len(probs) == 0 {
			continue
		}
		if bad == 0 {
			fmt.Fprintln(tw, "ROW\tCOLUMN\tVALUE\tREASON")
		}
		bad++
		for _, p := range probs {
			problems++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", rec.Row, p.Column, displayValue(p.Value), p.Reason)
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
