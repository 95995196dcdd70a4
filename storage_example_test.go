package supabase_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/supabase-go/supabase"
)

// Public URLs are built without a request; names are escaped segment by
// segment, so spaces, accents and even '?' stay part of the name.
func ExampleBucketHandle_PublicURL() {
	c, err := supabase.NewClient("https://abcdefghijklmnop.supabase.co", "public-anon-key")
	if err != nil {
		log.Fatal(err)
	}
	avatars := c.Storage.From("avatars")
	for _, path := range []string{"users/42/avatar.png", "users/42/my photo (1).png", "Grüße/Q1?draft.png"} {
		u, err := avatars.PublicURL(path, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u)
	}
	_, err = avatars.PublicURL("../secrets.txt", nil)
	fmt.Println(errors.Is(err, supabase.ErrInvalidArgument))
	// Output:
	// https://abcdefghijklmnop.supabase.co/storage/v1/object/public/avatars/users/42/avatar.png
	// https://abcdefghijklmnop.supabase.co/storage/v1/object/public/avatars/users/42/my%20photo%20(1).png
	// https://abcdefghijklmnop.supabase.co/storage/v1/object/public/avatars/Gr%C3%BC%C3%9Fe/Q1%3Fdraft.png
	// true
}

// A transformed image, downloaded by browsers under another name.
func ExampleBucketHandle_PublicURL_transform() {
	c, err := supabase.NewClient("https://abcdefghijklmnop.supabase.co", "public-anon-key")
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.Storage.From("avatars").PublicURL("users/42/avatar.png", &supabase.URLOptions{
		DownloadAs: "ada.png",
		Transform:  &supabase.TransformOptions{Width: 128, Height: 128, Resize: supabase.ResizeCover, Quality: 80},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://abcdefghijklmnop.supabase.co/storage/v1/render/image/public/avatars/users/42/avatar.png?download=ada.png&width=128&height=128&resize=cover&quality=80
}

// Upload a file as the signed-in user: Storage's RLS policies on
// storage.objects decide, with the same JWT as every other request. The
// file is streamed, never read into memory.
func ExampleBucketHandle_Upload() {
	ctx := context.Background()
	c, err := supabase.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", os.Getenv("PASSWORD"))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("avatar.png")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	res, err := c.Storage.From("avatars").Upload(ctx, "users/"+s.User.ID+"/avatar.png", f,
		&supabase.UploadOptions{ContentType: "image/png", Upsert: true})
	switch {
	case errors.Is(err, supabase.ErrPermissionDenied):
		log.Fatal("RLS refused the upload")
	case errors.Is(err, supabase.ErrTooLarge):
		log.Fatal("file too large for the bucket")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("stored", res.FullPath)

	// A link to share for an hour.
	link, err := c.Storage.From("avatars").CreateSignedURL(ctx, res.Path, time.Hour, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(link)
}

// Download streams the object: copy it where it goes, then Close.
func ExampleBucketHandle_Download() {
	ctx := context.Background()
	c, err := supabase.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Storage.From("reports").Download(ctx, "2026/q1.pdf", nil)
	if errors.Is(err, supabase.ErrNotFound) {
		log.Fatal("no such report")
	} else if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	out, err := os.Create("q1.pdf")
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	// A download cut off mid-way is an error here, never a short file.
	if _, err := io.Copy(out, r); err != nil {
		log.Fatal(err)
	}
}

func ExampleInvokeJSON() {
	ctx := context.Background()
	c, err := supabase.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	type greeting struct {
		Message string `json:"message"`
	}
	g, err := supabase.InvokeJSON[greeting](ctx, c.Functions, "hello-world",
		&supabase.InvokeOptions{Body: map[string]string{"name": "Ada"}})
	var e *supabase.Error
	switch {
	case errors.Is(err, supabase.ErrFunctionRelay):
		log.Fatal("the function could not be reached: ", err)
	case errors.As(err, &e):
		log.Fatalf("the function answered %d: %s", e.Status, e.Message)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(g.Message)
}
