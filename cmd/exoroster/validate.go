package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/roster"
)

type validateFlags struct {
	read          readFlags
	defaultRegion string
	requirePhone  bool
	target        string
}

func (a *app) validateCommand() *cobra.Command {
	f := &validateFlags{}
	cmd := &cobra.Command{
		Use:   "validate ROSTER.csv",
		Short: "Check a roster offline and list what is wrong with which row",
		Long: `Checks every row the way import would, without credentials or network:
names, E.164 phone numbers, emails, roles, and people listed twice. Reads CSV
or .xlsx, says first how it read the file and which column fills which field,
prints a table of problems (row, column, value, reason) and exits 3 if there
are any. With --target webrtc the rows are checked as a WebRTC app's roster:
user_id (required), name, phone and sip_enabled.`,
		Example: `  exoroster validate roster.csv
  exoroster validate hrms.xlsx --map "Mobile No.=phone" --require-phone
  exoroster validate app-roster.csv --target webrtc`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := roster.CheckRegion(f.defaultRegion); err != nil {
				return usageErr("--default-region: %v", err)
			}
			if err := f.read.check(f.defaultRegion); err != nil {
				return err
			}
			// A profile's target and default_region apply here too; a
			// wrong --target is refused first (resolveAPI).
			s, err := a.resolveAPI(cmd, nil, &f.defaultRegion)
			if err != nil {
				return err
			}
			t := s.Target.V
			return a.runValidate(cmd.OutOrStdout(), args[0], a.importRows(t, &apiFlags{}), f.read.options(f.defaultRegion),
				roster.Options{DefaultRegion: f.defaultRegion, RequirePhone: f.requirePhone})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	fs.BoolVar(&f.requirePhone, "require-phone", false,
		"a row without a phone number is invalid (for accounts where Exotel requires one: error 1402; with --target webrtc, a fallback number on every row)")
	f.read.register(fs)
	registerTarget(fs, &f.target)
	return cmd
}

func (a *app) runValidate(stdout io.Writer, path string, target importer.Rows, read roster.ReadOptions, opts roster.Options) error {
	r, err := a.openRoster(path, read)
	if err != nil {
		return err
	}
	defer r.Close()
	h := r.Header()
	if err := target.CheckHeader(h); err != nil {
		return abortErr(fmt.Errorf("%s: %w", path, err))
	}
	// Rows are checked on every CPU where the target can, in file order,
	// exactly as import checks them.
	checked := importer.CheckAll(r, target.NewChecker(h, opts))
	defer checked.Close()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	rows, bad, problems := 0, 0, 0
	for {
		c, err := checked.Next()
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
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.Rec.Row, p.Column, displayValue(p.Value), p.Reason)
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
