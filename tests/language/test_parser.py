"""The workflow language through the library: variables, names, options and bodies (SPEC §1)."""
import os

from language_helpers import load

from datamake.model import StepVar


def names(targets):
    return [t.name for t in targets]


def test_variables_quotes_escapes_and_comments(tmp_path):
    wf = load(tmp_path, r"""
        ; a comment on its own line
        A=plain.v-1:x/y  ; trailing comment
        B="two words \"q\" \$[A] $[A]"
        C='$[A] stays; literal'
        D=$[A]/$[B]
        E=
        out <- ; a comment after the arrow
          echo $[A] ; not a comment in a body
    """)
    step = wf.steps[0]
    assert step.vars["A"] == "plain.v-1:x/y"
    assert step.vars["B"] == 'two words "q" $[A] plain.v-1:x/y'
    assert step.vars["C"] == "$[A] stays; literal"
    assert step.vars["D"] == "plain.v-1:x/y/" + step.vars["B"]
    assert step.vars["E"] == ""
    assert step.body == "echo plain.v-1:x/y ; not a comment in a body"


def test_conditional_assignment_keeps_set_values_and_skips_their_commands(tmp_path):
    wf = load(tmp_path, """
        A:=default
        B:=$(touch ran; echo x)
        E=
        E:=filled
        out <-
          echo
    """, variables={"B": "from-cli"})
    assert dict(wf.steps[0].vars)["A"] == "default"
    assert wf.steps[0].vars["B"] == "from-cli"
    assert wf.steps[0].vars["E"] == "filled"
    assert not (tmp_path / "ran").exists()


def test_starting_scope_order_and_sequential_scoping(tmp_path, monkeypatch):
    monkeypatch.setenv("FROM_ENV", "env")
    monkeypatch.setenv("OVER", "env")
    wf = load(tmp_path, """
        first <-
          echo $[X] $[FROM_ENV] $[OVER]
        X=2
        second <-
          echo $[X]
    """, variables={"X": "1", "OVER": "cli"})
    assert wf.steps[0].body == "echo 1 env cli"
    assert wf.steps[1].body == "echo 2"
    # Untouched environment variables are not part of Step.vars; overridden ones are.
    assert "FROM_ENV" not in wf.steps[0].vars and wf.steps[0].vars["OVER"] == "cli"
    assert wf.steps[0].vars["BASE"] == str(tmp_path)


def test_command_substitution_runs_in_the_workflow_directory_with_variables(tmp_path):
    (tmp_path / "marker.txt").write_text("m\n\n")
    wf = load(tmp_path, """
        N=7
        A=$(cat marker.txt)
        B=$(echo "$N-$[N]" 'x$[N]')
        out <-
          echo
    """)
    assert wf.steps[0].vars["A"] == "m"
    assert wf.steps[0].vars["B"] == "7-7 x$[N]"


def test_names_are_normalised_base_prefixed_and_classified(tmp_path):
    wf = load(tmp_path, """
        a//b/../c, %done, 'with space.txt' <- ?maybe.csv, !raw/x, /abs//p, s3://bucket/k, file:f.txt
          true
    """, base=str(tmp_path / "data"))
    step = wf.steps[0]
    data = tmp_path / "data"
    assert names(step.outputs) == [str(data / "a/c"), str(data / "with space.txt")]
    assert step.output_tags == ("done",)
    assert names(step.inputs) == [str(data / "maybe.csv"), str(tmp_path / "raw/x"), "/abs/p",
                                  "s3://bucket/k", str(data / "f.txt")]
    assert [t.optional for t in step.inputs] == [True, False, False, False, False]
    assert step.inputs[0].written == "?maybe.csv"
    assert step.workdir == str(tmp_path)


def test_url_base_is_joined_not_normalised_as_a_path(tmp_path):
    wf = load(tmp_path, """
        out.csv, %t <- in.csv, %src
          true
    """, variables={}, base="memory://bucket/")
    assert names(wf.steps[0].outputs) == ["memory://bucket/out.csv"]
    assert wf.steps[0].input_tags == ("src",)


def test_header_spans_lines_after_commas_and_bodies_keep_relative_indentation(tmp_path):
    wf = load(tmp_path, """
        a,   ; first output
          b <- c,
          d [python]
            for i in range(2):
                print(i)

            print("$[OUTPUT1]")
    """)
    step = wf.steps[0]
    assert names(step.outputs) == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert names(step.inputs) == [str(tmp_path / "c"), str(tmp_path / "d")]
    assert step.body == 'for i in range(2):\n    print(i)\n\nprint("b")'
    assert step.loc.line == 2 and step.loc.col == 1


def test_arrow_may_start_a_continuation_line(tmp_path):
    wf = load(tmp_path, """
        a, b
          <- c
          cat $INPUT
    """)
    assert len(wf.steps[0].outputs) == 2 and wf.steps[0].body == "cat $INPUT"
    assert wf.steps[0].body_parts[0] == "cat $INPUT"


def test_backslash_continues_a_header_but_not_a_body_line(tmp_path):
    wf = load(tmp_path, r"""
        a <- \
             b [python \
                timeout:1m]
          print(1, \
                2)
    """)
    step = wf.steps[0]
    assert [t.written for t in step.inputs] == ["b"] and step.options.timeout == 60
    assert step.body == "print(1, \\\n      2)"


def test_step_variables_stay_placeholders_in_the_body(tmp_path):
    wf = load(tmp_path, """
        x, y <- i0, i1
          cat $[INPUT] $[INPUT1] > $[OUTPUT0]; echo $[INPUTS] $[INPUTN] $[OUTPUTS] $[OUTPUTN]
    """)
    step = wf.steps[0]
    assert StepVar("OUTPUT0") in step.body_parts
    assert step.body == "cat i0 i1 > x; echo i0 i1 2 x y 2"
    from datamake.model import render_body

    temp = dict(step.step_vars(outputs=("x.tmp", "y.tmp")))
    assert render_body(step.body_parts, temp).startswith("cat i0 i1 > x.tmp;")


def test_options_are_typed_and_given_as_written(tmp_path):
    wf = load(tmp_path, """
        T=90s
        out <- [protocol:ruby +confirm -timecheck -atomic +local retries:3 retry-delay:$[T] timeout:"2h" check:hash]
          puts 1
        other <- [python]
          print(1)
    """)
    opts = wf.steps[0].options
    assert (opts.protocol, opts.confirm, opts.timecheck, opts.atomic, opts.local) == ("ruby", True, False, False, True)
    assert (opts.retries, opts.retry_delay, opts.timeout, opts.check) == (3, 90.0, 7200.0, "hash")
    assert dict(opts.given) == {"protocol": "ruby", "confirm": True, "timecheck": False, "atomic": False,
                                "local": True, "retries": 3, "retry-delay": "90s", "timeout": "2h",
                                "check": "hash"}
    assert wf.steps[1].protocol == "python" and wf.steps[1].options.timeout is None


def test_options_may_span_lines(tmp_path):
    wf = load(tmp_path, """
        out <- in [python
                   timeout:1d]
          print(1)
    """)
    assert wf.steps[0].options.timeout == 86400.0


def test_methods_use_append_replace_and_caller_scope(tmp_path):
    wf = load(tmp_path, """
        copy() [python timeout:5m]
          open("$[OUTPUT]", "w").write(open("$[INPUT]").read() + "$[SUFFIX]")
        SUFFIX=one
        a <- x [method:copy]
        SUFFIX=two
        b <- x [method:copy method-mode:append timeout:1m]
          print("after")
        c <- x [method:copy method-mode:replace]
          print("only")
    """)
    a, b, c = wf.steps
    assert a.protocol == "python" and a.body.endswith('+ "one")') and a.options.timeout == 300
    assert b.body.splitlines()[1] == 'print("after")' and b.body.startswith('open("b", "w")')
    assert b.options.timeout == 60 and b.options.method_mode == "append"
    assert c.body == 'print("only")' and c.protocol == "python"
    assert wf.methods["copy"].options == {"protocol": "python", "timeout": "5m"}


def test_schedule_directive(tmp_path):
    wf = load(tmp_path, """
        Z=UTC
        %schedule daily start:2026-11-01 tz:$[Z]   ; comment
    """)
    assert wf.schedule == {"spec": "daily", "start": "2026-11-01", "tz": "UTC"}
    assert (wf.schedule_loc.line, wf.schedule_loc.col) == (3, 1)
    cron = load(tmp_path, '%schedule 0 3 * * 1-5 tz:Europe/Paris\n', name="cron")
    assert cron.schedule == {"spec": "0 3 * * 1-5", "tz": "Europe/Paris"}
    quoted = load(tmp_path, '%schedule "*/15 * * * *"\n', name="quoted")
    assert quoted.schedule == {"spec": "*/15 * * * *"}


def test_header_roots_follow_variables_back_to_the_starting_scope(tmp_path):
    wf = load(tmp_path, """
        DAY=$[DATE]
        DIR=raw/$[DAY]
        FIXED=ref
        $[DIR].json <- $[FIXED].csv
          true
        shared.csv <- $[FIXED].csv
          echo $[DATE]
        DATE=2026-01-01
        redefined/$[DATE] <-
          true
        h/$[HOUR]/$(echo $[HOME] > /dev/null; echo x) <-
          true
    """, variables={"DATE": "2026-11-23", "HOUR": "07"})
    assert [s.header_roots for s in wf.steps] == [frozenset({"DATE"}), frozenset(), frozenset(),
                                                 frozenset({"HOUR", "HOME"})]
    assert wf.steps[0].outputs[0].name == str(tmp_path / "raw/2026-11-23.json")


def test_header_roots_through_conditional_defaults(tmp_path):
    text = """
        OUT:=out
        $[OUT]/a <-
          true
    """
    assert load(tmp_path, text).steps[0].header_roots == frozenset()
    given = load(tmp_path, text, name="again", variables={"OUT": "$elsewhere"})
    assert given.steps[0].header_roots == frozenset({"OUT"})
    assert given.steps[0].outputs[0].name == str(tmp_path / "$elsewhere/a")


def test_crlf_text_and_no_trailing_newline(tmp_path):
    path = tmp_path / "Drakefile"
    path.write_bytes(b"A=1\r\nout <- in\r\n  echo $[A]")
    from datamake.language.load import load_workflow

    assert load_workflow(str(path)).steps[0].body == "echo 1"


def test_empty_workflow_has_no_steps(tmp_path):
    assert load(tmp_path, "\n; only a comment\n\n").steps == ()
    assert load(tmp_path, "", name="empty").steps == ()


def test_step_indexes_follow_file_order_across_includes(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "more.drake").write_text("b <-\n  echo b\n")
    wf = load(tmp_path, """
        a <-
          echo a
        %include inc/more.drake
        c <-
          echo c
    """)
    assert [s.index for s in wf.steps] == [0, 1, 2]
    assert [os.path.basename(s.outputs[0].name) for s in wf.steps] == ["a", "b", "c"]
