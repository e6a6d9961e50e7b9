// A command-line wrapper around Porcupine (github.com/anishathalye/porcupine,
// v1.3.0) that reads rift's JSON Lines history format (checker/types.ts
// HistoryOp: one op per line, invoke then ok/fail/info per process, an
// optional key) and checks it with Porcupine's CheckEventsTimeout,
// partitioned by key, so that `npm run bench -- checker --vs porcupine` can
// time both checkers on the same files, process start to verdict. Exit
// codes as rift-check: 0 valid, 1 invalid, 2 unknown, 254 bad input.
//
//	porc FILE [timeout-seconds]   (default 60)
//
// Semantics as rift's checker (checker/history.ts): a fail op never
// happened (dropped); an info op, or one never completed, returns after
// every other event with an unknown outcome (any step is legal); a read or
// get with an unknown outcome is dropped. cas-register: read / write / cas
// [expected, new] on JSON values, initial value null. kv: get / put / append
// on strings, initial "", a get of null reads "". Not part of the build:
// bench/porcupine.ts builds it in a temp directory against a Porcupine
// source tree (see README.md there).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

type line struct {
	Process json.RawMessage `json:"process"`
	Type    string          `json:"type"`
	F       string          `json:"f"`
	Key     json.RawMessage `json:"key"`
	Value   json.RawMessage `json:"value"`
}

type input struct {
	f   string
	key string
	a   string // write/put/append value, cas expected
	b   string // cas new
}

type output struct {
	unknown bool
	v       string // read/get result
}

// canon: a JSON value in a canonical form (numbers re-encoded), "null" for absent.
func canon(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var x interface{}
	if err := json.Unmarshal(raw, &x); err != nil {
		fail("bad value %s", raw)
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func str(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		fail("bad string %s", raw)
	}
	return s
}

func fail(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "porc: "+f+"\n", a...)
	os.Exit(254)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: porc FILE [timeout-seconds]")
	}
	timeout := 60 * time.Second
	if len(os.Args) > 2 {
		s, _ := strconv.ParseFloat(os.Args[2], 64)
		timeout = time.Duration(s * float64(time.Second))
	}
	fh, err := os.Open(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	type pend struct {
		id  int
		in  input
		at  int
		key string
	}
	open := map[string]*pend{}
	type ev struct {
		call bool
		id   int
	}
	var evs []ev
	var ins []input
	var outs []*output
	dropped := map[int]bool{}
	kv := false
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fail("bad line: %v", err)
		}
		if len(l.Process) == 0 || l.Process[0] == '"' {
			continue // nemesis
		}
		p := string(l.Process)
		switch l.Type {
		case "invoke":
			in := input{f: l.F, key: canon(l.Key)}
			switch l.F {
			case "write":
				in.a = canon(l.Value)
			case "put", "append":
				in.a = str(l.Value)
				kv = true
			case "get":
				kv = true
			case "cas":
				var ab [2]json.RawMessage
				if err := json.Unmarshal(l.Value, &ab); err != nil {
					fail("bad cas value %s", l.Value)
				}
				in.a, in.b = canon(ab[0]), canon(ab[1])
			}
			id := len(ins)
			ins = append(ins, in)
			outs = append(outs, &output{unknown: true})
			open[p] = &pend{id: id, in: in}
			evs = append(evs, ev{true, id})
		default:
			o := open[p]
			if o == nil {
				fail("completion without invoke")
			}
			delete(open, p)
			switch l.Type {
			case "ok":
				out := outs[o.id]
				out.unknown = false
				if l.F == "read" {
					out.v = canon(l.Value)
				} else if l.F == "get" {
					out.v = str(l.Value)
				}
				evs = append(evs, ev{false, o.id})
			case "fail":
				dropped[o.id] = true
			case "info":
				// returns at the end, below
				if o.in.f == "read" || o.in.f == "get" {
					dropped[o.id] = true
				}
			}
		}
	}
	for _, o := range open {
		if o.in.f == "read" || o.in.f == "get" {
			dropped[o.id] = true
		}
	}
	// Unknown-outcome ops return after everything.
	returned := make([]bool, len(ins))
	for _, e := range evs {
		if !e.call {
			returned[e.id] = true
		}
	}
	history := make([]porcupine.Event, 0, 2*len(ins))
	for _, e := range evs {
		if dropped[e.id] {
			continue
		}
		if e.call {
			history = append(history, porcupine.Event{Kind: porcupine.CallEvent, Value: ins[e.id], Id: e.id})
		} else {
			history = append(history, porcupine.Event{Kind: porcupine.ReturnEvent, Value: *outs[e.id], Id: e.id})
		}
	}
	for id := range ins {
		if !dropped[id] && !returned[id] {
			history = append(history, porcupine.Event{Kind: porcupine.ReturnEvent, Value: output{unknown: true}, Id: id})
		}
	}
	model := porcupine.Model{
		PartitionEvent: func(h []porcupine.Event) [][]porcupine.Event {
			m := map[string][]porcupine.Event{}
			var keys []string
			idKey := map[int]string{}
			for _, e := range h {
				var k string
				if e.Kind == porcupine.CallEvent {
					k = e.Value.(input).key
					idKey[e.Id] = k
				} else {
					k = idKey[e.Id]
				}
				if _, ok := m[k]; !ok {
					keys = append(keys, k)
				}
				m[k] = append(m[k], e)
			}
			out := make([][]porcupine.Event, 0, len(keys))
			for _, k := range keys {
				out = append(out, m[k])
			}
			return out
		},
		Init: func() interface{} {
			if kv {
				return ""
			}
			return "null"
		},
		Step: func(state, in, out interface{}) (bool, interface{}) {
			s := state.(string)
			i := in.(input)
			o := out.(output)
			switch i.f {
			case "read", "get":
				return o.unknown || o.v == s, s
			case "write", "put":
				return true, i.a
			case "append":
				return true, s + i.a
			case "cas":
				if s == i.a {
					return true, i.b
				}
				return o.unknown, s
			}
			return false, s
		},
		Equal: func(a, b interface{}) bool { return a.(string) == b.(string) },
	}
	res := porcupine.CheckEventsTimeout(model, history, timeout)
	switch res {
	case porcupine.Ok:
		fmt.Println("valid")
	case porcupine.Illegal:
		fmt.Println("invalid")
		os.Exit(1)
	default:
		fmt.Println("unknown")
		os.Exit(2)
	}
}
