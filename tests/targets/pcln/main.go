// Command pcln is the oracle for leakscope's .gopclntab parser: it prints what the Go
// runtime itself says about program counters of this very binary, including the frames of
// inlined calls, in a line format that C and shell can read.
//
// Output lines (addresses are runtime addresses, hex with 0x; fields separated by one tab):
//
//	version GOVERSION
//	anchor NAME ADDR                    runtime entry of a named function (load bias)
//	func NAME ENTRY                     runtime.FuncForPC(f).Entry() of a few functions
//	stack LABEL                         start of a runtime.Callers stack
//	pc PC                               one pc of that stack, as runtime.Callers gave it
//	frame FUNC FILE LINE INLINED ENTRY  runtime.CallersFrames([]uintptr{PC}) for the pc above
//	full FUNC FILE LINE INLINED ENTRY   runtime.CallersFrames(whole stack), in order
//	end
//	sweep PC FUNC FILE LINE INLINED ENTRY  the frame for the instruction at PC itself
//
// INLINED is 1 when the runtime reports no *Func for the frame (the frame was inlined).
// The sweep walks the whole text with a fixed stride and looks each address up the way
// CallersFrames does for a return address one past it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
)

var out = bufio.NewWriterSize(os.Stdout, 1<<16)

// sink keeps the compiler from discarding work in the leaf functions.
var sink int

func frameLine(tag string, f runtime.Frame) {
	inl := 0
	if f.Func == nil {
		inl = 1
	}
	fmt.Fprintf(out, "%s\t%s\t%s\t%d\t%d\t%#x\n", tag, f.Function, f.File, f.Line, inl, f.Entry)
}

func dump(label string, pcs []uintptr) {
	fmt.Fprintf(out, "stack\t%s\n", label)
	for _, pc := range pcs {
		fmt.Fprintf(out, "pc\t%#x\n", pc)
		fr := runtime.CallersFrames([]uintptr{pc})
		f, _ := fr.Next()
		frameLine("frame", f)
	}
	fr := runtime.CallersFrames(pcs)
	for {
		f, more := fr.Next()
		frameLine("full", f)
		if !more {
			break
		}
	}
	fmt.Fprintf(out, "end\n")
}

// capture records the stack of its caller; runtime.Callers itself is usually inlined into
// it, which puts an inlined frame at the top of every stack.
//
//go:noinline
func capture(label string) {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(0, pcs)
	dump(label, pcs[:n])
}

// The chain outer -> middle -> leaf: middle and leaf are small enough to be inlined, so the
// pcs of this stack carry an inline tree two levels deep.
func leaf(x int) int {
	capture("leaf")
	return x + 1
}

func middle(x int) int {
	return leaf(x*2) + 3
}

//go:noinline
func outer(x int) int {
	sink += middle(x)
	return sink
}

// A second path into the same inlined leaf, so one function holds two inline trees' worth
// of call sites.
//
//go:noinline
func outer2(x int) int {
	y := middle(x + 1)
	return middle(y)
}

//go:noinline
func notInlined(x int) int {
	capture("noinline")
	return x - 1
}

type T struct{ n int }

//go:noinline
func (t *T) method() int {
	capture("method")
	return t.n
}

func closureUser() int {
	f := func(v int) int {
		capture("closure")
		return v * 3
	}
	return f(sink)
}

func deferred() {
	defer func() {
		capture("defer")
	}()
	sink++
}

func goroutine() {
	done := make(chan bool)
	go func() {
		capture("goroutine")
		done <- true
	}()
	<-done
}

func funcAddr(f interface{}) uintptr {
	return reflect.ValueOf(f).Pointer()
}

func printFunc(f interface{}) {
	fn := runtime.FuncForPC(funcAddr(f))
	fmt.Fprintf(out, "func\t%s\t%#x\n", fn.Name(), fn.Entry())
}

// sweep looks up every stride-th address of the text between the lowest and the highest
// function the runtime knows, found by probing outwards from main.main.
func sweep(stride uintptr) {
	mm := funcAddr(main)
	lo, hi := mm, mm
	for step := uintptr(1 << 20); step > 0; step >>= 1 {
		for lo > step && runtime.FuncForPC(lo-step) != nil {
			lo -= step
		}
		for runtime.FuncForPC(hi+step) != nil {
			hi += step
		}
	}
	for pc := lo; pc <= hi; pc += stride {
		// pc+1 as a return address stands for pc, except at a function's entry,
		// where CallersFrames takes it as is.
		if f := runtime.FuncForPC(pc + 1); f == nil || f.Entry() == pc+1 {
			continue
		}
		fr := runtime.CallersFrames([]uintptr{pc + 1})
		f, _ := fr.Next()
		if f.Function == "" {
			continue
		}
		inl := 0
		if f.Func == nil {
			inl = 1
		}
		fmt.Fprintf(out, "sweep\t%#x\t%s\t%s\t%d\t%d\t%#x\n", pc, f.Function, f.File, f.Line,
			inl, f.Entry)
	}
}

func main() {
	fmt.Fprintf(out, "version\t%s\n", runtime.Version())
	fmt.Fprintf(out, "anchor\tmain.main\t%#x\n", funcAddr(main))
	printFunc(main)
	printFunc(outer)
	printFunc(notInlined)
	printFunc((*T).method)
	printFunc(runtime.Callers)
	printFunc(runtime.GC)
	printFunc(fmt.Fprintf)

	outer(1)
	outer2(2)
	notInlined(3)
	(&T{4}).method()
	closureUser()
	deferred()
	goroutine()
	capture("main")

	stride := uintptr(61)
	if len(os.Args) > 1 {
		if v, err := strconv.ParseUint(os.Args[1], 0, 64); err == nil && v > 0 {
			stride = uintptr(v)
		}
	}
	sweep(stride)
	out.Flush()
}
