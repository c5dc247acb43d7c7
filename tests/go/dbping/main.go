// dbping connects with lib/pq, the driver Mattermost uses, to the URL in the DATABASE_URL environment
// variable (not an argument, so the password never shows in a process list) and runs one query.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/lib/pq"
)

func main() {
	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	defer db.Close()
	var user string
	if err := db.QueryRow("SELECT current_user").Scan(&user); err != nil {
		fmt.Println("query failed:", err)
		os.Exit(1)
	}
	fmt.Println("connected as", user)
}
