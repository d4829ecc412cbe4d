// Command hello is a stand-in main package so the zip format is tested even while
// ./app does not compile.
package main

import "fmt"

func main() { fmt.Println("hello from bootstrap") }
