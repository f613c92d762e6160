// Command kafkadist lays out Apache Kafka distributions from Maven Central into the cache (see
// package kafkadist) and prints their homes: `make kafka-dist` runs it for every supported
// version. With -pin it resolves a version afresh and prints its pinned list instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
)

func main() {
	versions := flag.String("version", strings.Join(kafkadist.Supported(), ","), "comma-separated Kafka versions")
	pin := flag.Bool("pin", false, "resolve -version afresh and print its pinned list (to commit as e2e/kafkadist/pinned/<version>.txt)")
	flag.Parse()
	ctx := context.Background()
	for _, v := range strings.Split(*versions, ",") {
		if *pin {
			b, err := kafkadist.Pin(ctx, kafkadist.Options{Version: v, Log: os.Stderr}, kafkadist.DirectDependencies(v))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Stdout.Write(b)
			continue
		}
		d, err := kafkadist.Ensure(ctx, kafkadist.Options{Version: v, Log: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("kafka %s: %s\n", d.Version, d.Home)
	}
}
