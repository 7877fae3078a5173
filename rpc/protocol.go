package rpc

import "encoding/json"

// Method names of the codemux protocol (DESIGN §2) and the LSP lifecycle.
const (
	MethodInitialize       = "initialize"
	MethodInitialized      = "initialized"
	MethodShutdown         = "shutdown"
	MethodExit             = "exit"
	MethodCancelRequest    = "$/cancelRequest"
	MethodProgress         = "$/progress"
	MethodProgressCreate   = "window/workDoneProgress/create"
	MethodDidSave          = "textDocument/didSave"
	MethodDidChangeFolders = "workspace/didChangeWorkspaceFolders"
	MethodSearch           = "codemux/search"
	MethodAsk              = "codemux/ask"
	MethodAskDelta         = "codemux/askDelta"
	MethodIndex            = "codemux/index"
	MethodStatus           = "codemux/status"
	MethodFeedback         = "codemux/feedback"
	MethodFeedbackExport   = "codemux/feedbackExport"
)

// WorkspaceFolder is an LSP workspace folder.
type WorkspaceFolder struct {
	URI  string `json:"uri"`
	Name string `json:"name"`
}

// NameVersion is LSP's clientInfo / serverInfo.
type NameVersion struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// InitializeParams is the subset of LSP's initialize params codemux reads.
type InitializeParams struct {
	ProcessID        *int              `json:"processId"`
	ClientInfo       *NameVersion      `json:"clientInfo,omitempty"`
	RootURI          string            `json:"rootUri,omitempty"`
	WorkspaceFolders []WorkspaceFolder `json:"workspaceFolders,omitempty"`
	Capabilities     json.RawMessage   `json:"capabilities,omitempty"`
}

// InitializeResult answers initialize.
type InitializeResult struct {
	ServerInfo   NameVersion        `json:"serverInfo"`
	Capabilities ServerCapabilities `json:"capabilities"`
}

// ServerCapabilities tells a client what the server handles.
type ServerCapabilities struct {
	TextDocumentSync TextDocumentSyncOptions `json:"textDocumentSync"`
	Workspace        WorkspaceCapabilities   `json:"workspace"`
	Experimental     CodemuxCapabilities     `json:"experimental"`
}

// TextDocumentSyncOptions: codemux only needs save notifications.
type TextDocumentSyncOptions struct {
	OpenClose bool        `json:"openClose"`
	Change    int         `json:"change"` // 0: none
	Save      SaveOptions `json:"save"`
}

// SaveOptions of LSP's textDocumentSync.
type SaveOptions struct {
	IncludeText bool `json:"includeText"`
}

// WorkspaceCapabilities of LSP.
type WorkspaceCapabilities struct {
	WorkspaceFolders WorkspaceFoldersCapabilities `json:"workspaceFolders"`
}

// WorkspaceFoldersCapabilities of LSP.
type WorkspaceFoldersCapabilities struct {
	Supported           bool `json:"supported"`
	ChangeNotifications bool `json:"changeNotifications"`
}

// CodemuxCapabilities lists the codemux methods the server implements.
type CodemuxCapabilities struct {
	Methods []string `json:"codemuxMethods"`
}

// WorkDoneProgressParams is embedded in params of long-running methods.
type WorkDoneProgressParams struct {
	WorkDoneToken json.RawMessage `json:"workDoneToken,omitempty"`
}

// CancelParams of $/cancelRequest.
type CancelParams struct {
	ID any `json:"id"`
}

// ProgressParams of $/progress.
type ProgressParams struct {
	Token json.RawMessage `json:"token"`
	Value any             `json:"value"`
}

// WorkDoneProgress is the value of a $/progress notification.
type WorkDoneProgress struct {
	Kind        string `json:"kind"` // begin, report, end
	Title       string `json:"title,omitempty"`
	Cancellable bool   `json:"cancellable,omitempty"`
	Message     string `json:"message,omitempty"`
	Percentage  *int   `json:"percentage,omitempty"`
}

// TextDocumentIdentifier of LSP.
type TextDocumentIdentifier struct {
	URI string `json:"uri"`
}

// DidSaveParams of textDocument/didSave.
type DidSaveParams struct {
	TextDocument TextDocumentIdentifier `json:"textDocument"`
}

// DidChangeWorkspaceFoldersParams of workspace/didChangeWorkspaceFolders.
type DidChangeWorkspaceFoldersParams struct {
	Event struct {
		Added   []WorkspaceFolder `json:"added"`
		Removed []WorkspaceFolder `json:"removed"`
	} `json:"event"`
}

// SearchParams of codemux/search.
type SearchParams struct {
	WorkDoneProgressParams
	Query     string   `json:"query"`
	K         int      `json:"k,omitempty"`
	Folder    string   `json:"folder,omitempty"` // URI or absolute path
	Languages []string `json:"languages,omitempty"`
	Paths     []string `json:"paths,omitempty"`
	Mode      string   `json:"mode,omitempty"` // hybrid (default), lexical, vector
}

// SearchResult answers codemux/search.
type SearchResult struct {
	Results []SearchHit `json:"results"`
}

// SearchHit is one retrieved chunk. Path is relative to Folder, lines are
// 1-based inclusive.
type SearchHit struct {
	Folder    string  `json:"folder"`
	Path      string  `json:"path"`
	StartLine int     `json:"startLine"`
	EndLine   int     `json:"endLine"`
	Symbol    string  `json:"symbol"`
	Kind      string  `json:"kind"`
	Language  string  `json:"language"`
	Score     float64 `json:"score"`
	Snippet   string  `json:"snippet"`
}

// IndexParams of codemux/index.
type IndexParams struct {
	WorkDoneProgressParams
	Folder string `json:"folder,omitempty"`
	Full   bool   `json:"full,omitempty"`
}

// IndexSummary answers codemux/index.
type IndexSummary struct {
	Folder  string         `json:"folder"`
	Files   int            `json:"files"`
	Chunks  int            `json:"chunks"`
	Bytes   int64          `json:"bytes"`
	Skipped int            `json:"skipped"`
	Reasons map[string]int `json:"skippedReasons,omitempty"`
	Ms      int64          `json:"ms"`
}

// AskParams of codemux/ask.
type AskParams struct {
	WorkDoneProgressParams
	Question  string `json:"question"`
	Folder    string `json:"folder,omitempty"`
	Kind      string `json:"kind,omitempty"`
	ContextK  *int   `json:"contextK,omitempty"`
	NoContext bool   `json:"noContext,omitempty"`
	Stream    bool   `json:"stream,omitempty"`
	// Diagnostics and ToolOutput are results of deterministic tools
	// (linters, failing tests, scanners) the answer must explain.
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	ToolOutput  string       `json:"toolOutput,omitempty"`
	// DryRun returns what would be sent (after redaction) and sends nothing.
	DryRun bool `json:"dryRun,omitempty"`
	// Context, when set, is sent instead of retrieving from the folder.
	Context []InlineContext `json:"context,omitempty"`
	// Models restricts the answer to these models (evals pin a model).
	Models []string `json:"models,omitempty"`
	// PromptDir is a directory of prompt template overrides to use instead
	// of the workspace's .codemux/prompts (evals compare prompt versions).
	PromptDir string `json:"promptDir,omitempty"`
}

// InlineContext is code passed with a question instead of retrieved.
type InlineContext struct {
	Path      string `json:"path"`
	Text      string `json:"text"`
	StartLine int    `json:"startLine,omitempty"`
	Language  string `json:"language,omitempty"`
}

// FeedbackExportParams of codemux/feedbackExport.
type FeedbackExportParams struct {
	All    bool   `json:"all,omitempty"`    // include unrated answers
	Rating string `json:"rating,omitempty"` // only "up" or "down"
}

// FeedbackExportResult answers codemux/feedbackExport: JSON lines, one
// record each.
type FeedbackExportResult struct {
	Lines string `json:"lines"`
	Count int    `json:"count"`
}

// Diagnostic is one finding of a tool, passed with a question.
type Diagnostic struct {
	Source   string `json:"source,omitempty"`
	Path     string `json:"path,omitempty"`
	Line     int    `json:"line,omitempty"`
	Severity string `json:"severity,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
}

// AskPreview is what an ask would send to a model.
type AskPreview struct {
	Model         string        `json:"model"`
	Family        string        `json:"family"`
	PromptVersion string        `json:"promptVersion"`
	System        string        `json:"system"`
	Messages      []ChatMessage `json:"messages"`
}

// ChatMessage is one message of a prompt.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// AskDelta is the params of a codemux/askDelta notification.
type AskDelta struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// AskResult answers codemux/ask.
type AskResult struct {
	ID       string        `json:"id"`
	Answer   string        `json:"answer"`
	Model    string        `json:"model"`
	Account  string        `json:"account"`
	Usage    Usage         `json:"usage"`
	Context  []ContextRef  `json:"context"`
	Attempts []AttemptInfo `json:"attempts"`
	// PromptVersion names the template that rendered the prompt, e.g.
	// "explain/claude@1" or "chat/gpt@2+workspace".
	PromptVersion string `json:"promptVersion"`
	// Redacted counts secrets replaced by placeholders before sending.
	Redacted int `json:"redacted"`
	// Request is set for a dry run: what would have been sent.
	Request *AskPreview `json:"request,omitempty"`
}

// Usage of one answer.
type Usage struct {
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
}

// ContextRef cites a chunk that was sent with a question.
type ContextRef struct {
	Folder    string `json:"folder"`
	Path      string `json:"path"`
	StartLine int    `json:"startLine"`
	EndLine   int    `json:"endLine"`
	Symbol    string `json:"symbol,omitempty"`
}

// AttemptInfo is one try of one account/model.
type AttemptInfo struct {
	Account string `json:"account"`
	Model   string `json:"model"`
	Outcome string `json:"outcome"`
	Ms      int64  `json:"ms"`
}

// FeedbackParams of codemux/feedback.
type FeedbackParams struct {
	ID      string `json:"id"`
	Rating  string `json:"rating"`
	Comment string `json:"comment,omitempty"`
}

// StatusResult answers codemux/status.
type StatusResult struct {
	Version       string          `json:"version"`
	PID           int             `json:"pid"`
	Socket        string          `json:"socket,omitempty"` // empty when standalone
	StartedAt     string          `json:"startedAt"`        // RFC 3339
	UptimeSeconds float64         `json:"uptimeSeconds"`
	Clients       []ClientStatus  `json:"clients"`
	Folders       []FolderStatus  `json:"folders"`
	Accounts      []AccountStatus `json:"accounts"`
	ConfigPath    string          `json:"configPath,omitempty"`
	ConfigError   string          `json:"configError,omitempty"`
}

// ClientStatus describes one connected client.
type ClientStatus struct {
	ID          int    `json:"id"`
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	ProcessID   int    `json:"processId,omitempty"`
	ConnectedAt string `json:"connectedAt"`
}

// FolderStatus describes one workspace folder's index.
type FolderStatus struct {
	URI         string   `json:"uri"`
	State       string   `json:"state"`
	Files       int      `json:"files"`
	Chunks      int      `json:"chunks"`
	MemoryBytes int64    `json:"memoryBytes"`
	CapBytes    int64    `json:"capBytes"`
	DiskBytes   int64    `json:"diskBytes,omitempty"`
	Degraded    []string `json:"degraded"`
	Error       string   `json:"error,omitempty"`
}

// AccountStatus describes one configured LLM account.
type AccountStatus struct {
	Name     string        `json:"name"`
	Provider string        `json:"provider"`
	Models   []ModelStatus `json:"models"`
}

// ModelStatus is one account/model's limits and health.
type ModelStatus struct {
	Model         string `json:"model"`
	RPMLimit      int    `json:"rpmLimit"`
	RPMLeft       int    `json:"rpmLeft"`
	TPMLimit      int    `json:"tpmLimit"`
	TPMLeft       int    `json:"tpmLeft"`
	Health        string `json:"health"`
	CooldownUntil string `json:"cooldownUntil,omitempty"`
}
