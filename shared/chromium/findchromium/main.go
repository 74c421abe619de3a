// Command findchromium prints the path of the Chromium the browser tests
// would use (package chromium) and exits 1 when there is none: `make
// system-tools` asks it before installing one.
package main

import (
	"fmt"
	"os"

	"github.com/dotenv/apikeys/shared/chromium"
)

func main() {
	p, err := chromium.Find()
	if err != nil {
		fmt.Fprintln(os.Stderr, "findchromium:", err)
		os.Exit(1)
	}
	fmt.Println(p)
}
