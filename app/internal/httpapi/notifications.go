package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/notify"
	"github.com/miyabi/miyabi/app/internal/store"
)

// permNotificationsManage lets owners and admins manage notification channels.
const permNotificationsManage = "notifications.manage"

// NotificationChannelOut is a channel as people see it: its secret never leaves, except
// a webhook's signing secret once, in the answer that created it.
type NotificationChannelOut struct {
	ID            uuid.UUID   `json:"id"`
	Name          string      `json:"name"`
	Kind          string      `json:"kind" enum:"line,slack,webhook"`
	Target        string      `json:"target" doc:"The LINE recipient id, the Slack host, or the webhook URL"`
	EventTypes    []string    `json:"event_types"`
	RepositoryIDs []uuid.UUID `json:"repository_ids" doc:"Empty: every repository"`
	IsActive      bool        `json:"is_active"`
	Status        string      `json:"status" enum:"ok,failing" doc:"failing: the receiver refused a message or stayed unreachable for 24 h; see failure_reason"`
	FailureReason *string     `json:"failure_reason" nullable:"true"`
	FailingSince  *time.Time  `json:"failing_since" nullable:"true"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	SigningSecret string      `json:"signing_secret,omitempty" doc:"Webhooks only, shown once: the HMAC-SHA256 key of X-Miyabi-Signature-256"`
}

func notificationChannelOut(c store.NotificationChannel) NotificationChannelOut {
	ids := c.RepositoryIDs
	if ids == nil {
		ids = []uuid.UUID{}
	}
	return NotificationChannelOut{ID: c.ID, Name: c.Name, Kind: c.Kind, Target: c.Target, EventTypes: c.EventTypes,
		RepositoryIDs: ids, IsActive: c.IsActive, Status: c.Status, FailureReason: c.FailureReason,
		FailingSince: c.FailingSince, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// NotificationDeliveryOut is one entry of a channel's delivery log.
type NotificationDeliveryOut struct {
	ID            uuid.UUID  `json:"id" doc:"Also sent as X-Miyabi-Delivery, the same on every retry"`
	ChannelID     uuid.UUID  `json:"channel_id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status" enum:"pending,delivering,delivered,failed"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at" nullable:"true" doc:"When the next attempt is due (pending only)"`
	ResponseCode  *int       `json:"response_code" nullable:"true"`
	ResponseBody  *string    `json:"response_body" nullable:"true" doc:"The first 1 kB of the receiver's answer"`
	LastError     *string    `json:"last_error" nullable:"true"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at" nullable:"true"`
}

func notificationDeliveryOut(d store.NotificationDelivery) NotificationDeliveryOut {
	out := NotificationDeliveryOut{ID: d.ID, ChannelID: d.ChannelID, EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, ResponseCode: d.ResponseCode, ResponseBody: d.ResponseBody, LastError: d.LastError,
		CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
	if d.Status == "pending" {
		next := d.NextAttemptAt
		out.NextAttemptAt = &next
	}
	return out
}

// Notifier is the API's deliverer of notifications: the local server runs it after
// commits, the sweeper and the Lambda's sweep action run its Sweep.
func (s *Server) Notifier() *notify.Notifier { return s.notifier }

var (
	notificationTags              = []string{"notifications"}
	docGetNotificationSettings    = huma.Operation{OperationID: "get-notification-settings", Tags: notificationTags, Summary: "The organization's notification settings"}
	docUpdateNotificationSettings = huma.Operation{OperationID: "update-notification-settings", Tags: notificationTags,
		Summary: "Change the language notifications are written in"}
	docListNotificationChannels  = huma.Operation{OperationID: "list-notification-channels", Tags: notificationTags, Summary: "List the organization's notification channels"}
	docCreateNotificationChannel = huma.Operation{OperationID: "create-notification-channel", Tags: notificationTags,
		Summary:       "Add a LINE, Slack or webhook channel",
		Description:   "line: line_to (a user, group or room id) and line_channel_access_token; slack: url (the incoming webhook); webhook: url (https). Tokens and the Slack URL are stored encrypted. A webhook's signing_secret is in this answer only.",
		DefaultStatus: http.StatusCreated}
	docGetNotificationChannel    = huma.Operation{OperationID: "get-notification-channel", Tags: notificationTags, Summary: "Get a notification channel"}
	docUpdateNotificationChannel = huma.Operation{OperationID: "update-notification-channel", Tags: notificationTags,
		Summary:     "Change a channel's name, subscriptions, receiver or state",
		Description: "A new receiver (url, line_to, line_channel_access_token) or is_active: true clears the failing mark."}
	docDeleteNotificationChannel = huma.Operation{OperationID: "delete-notification-channel", Tags: notificationTags,
		Summary: "Remove a channel and its delivery log", DefaultStatus: http.StatusNoContent}
	docTestNotificationChannel = huma.Operation{OperationID: "test-notification-channel", Tags: notificationTags,
		Summary:       "Send a test message",
		Description:   "Queues a test message and makes the first attempt at once; the answer is the delivery with its outcome (a failed attempt is retried like any other).",
		DefaultStatus: http.StatusCreated}
	docListNotificationDeliveries = huma.Operation{OperationID: "list-notification-deliveries", Tags: notificationTags,
		Summary: "A channel's delivery log, newest first"}
)

type listNotificationChannelsInput struct {
	ID uuid.UUID `path:"id"`
	PageParams
}

type notificationChannelPageOutput struct{ Body Page[NotificationChannelOut] }

func (s *Server) listNotificationChannels(ctx context.Context, in *listNotificationChannelsInput) (*notificationChannelPageOutput, error) {
	items, total, err := s.store.ListNotificationChannels(ctx, in.ID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &notificationChannelPageOutput{Body: pageOf(mapSlice(items, notificationChannelOut), total, in.PageParams)}, nil
}

// NotificationEventType is one subscribable event.
type NotificationEventType string

func (NotificationEventType) Schema(huma.Registry) *huma.Schema {
	enum := make([]any, len(domain.NotificationEventTypes))
	for i, t := range domain.NotificationEventTypes {
		enum[i] = t
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum}
}

func eventTypeNames(in []NotificationEventType) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if !slices.Contains(out, string(t)) {
			out = append(out, string(t))
		}
	}
	return out
}

type createNotificationChannelInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Name                   string                  `json:"name" minLength:"1" maxLength:"100"`
		Kind                   string                  `json:"kind" enum:"line,slack,webhook"`
		EventTypes             []NotificationEventType `json:"event_types" minItems:"1" maxItems:"6"`
		RepositoryIDs          []uuid.UUID             `json:"repository_ids,omitempty" maxItems:"100" doc:"Only events of these repositories; empty or absent for all"`
		URL                    string                  `json:"url,omitempty" maxLength:"2048" doc:"slack: the incoming webhook URL; webhook: the receiver (https)"`
		LineTo                 string                  `json:"line_to,omitempty" pattern:"^[UCR][0-9a-f]{32}$" maxLength:"33" doc:"line: the user, group or room id to push to"`
		LineChannelAccessToken string                  `json:"line_channel_access_token,omitempty" maxLength:"1000" doc:"line: the channel access token"`
	}
}

type notificationChannelOutput struct{ Body NotificationChannelOut }

// receiver checks the kind's fields and returns what is shown (target) and what is
// sealed (secret); a webhook gets a fresh signing secret.
func (s *Server) receiver(kind, rawURL, lineTo, lineToken string) (target, secret string, err error) {
	allowPrivate := s.cfg.Development()
	switch kind {
	case domain.ChannelLINE:
		if lineTo == "" {
			return "", "", domain.Invalid("body.line_to", "is required for a LINE channel (a user, group or room id)")
		}
		if len(lineToken) < 10 {
			return "", "", domain.Invalid("body.line_channel_access_token", "is required for a LINE channel")
		}
		return lineTo, lineToken, nil
	case domain.ChannelSlack:
		if err := notify.CheckURL(rawURL, allowPrivate); err != nil {
			return "", "", domain.Invalid("body.url", "%s", err.Error())
		}
		u, _ := url.Parse(rawURL)
		// the URL is the credential: show only where it points
		return u.Scheme + "://" + u.Host + "/…", rawURL, nil
	case domain.ChannelWebhook:
		if err := notify.CheckURL(rawURL, allowPrivate); err != nil {
			return "", "", domain.Invalid("body.url", "%s", err.Error())
		}
		var b [32]byte
		_, _ = rand.Read(b[:])
		return rawURL, "mwhsec_" + hex.EncodeToString(b[:]), nil
	}
	return "", "", domain.Invalid("body.kind", "must be line, slack or webhook")
}

func (s *Server) createNotificationChannel(ctx context.Context, in *createNotificationChannelInput) (*notificationChannelOutput, error) {
	p := principalFrom(ctx)
	b := in.Body
	target, secret, err := s.receiver(b.Kind, b.URL, b.LineTo, b.LineChannelAccessToken)
	if err != nil {
		return nil, err
	}
	id := uuid.New()
	c, err := s.store.CreateNotificationChannel(ctx, in.ID, store.NewNotificationChannel{ID: id, Name: b.Name, Kind: b.Kind,
		Target: target, SecretSealed: s.sealer.Seal([]byte(secret), id[:]), EventTypes: eventTypeNames(b.EventTypes),
		RepositoryIDs: b.RepositoryIDs, CreatedBy: p.UserID})
	if err != nil {
		return nil, err
	}
	out := notificationChannelOut(c)
	if c.Kind == domain.ChannelWebhook {
		out.SigningSecret = secret
	}
	return &notificationChannelOutput{Body: out}, nil
}

type notificationChannelIDInput struct {
	ID        uuid.UUID `path:"id"`
	ChannelID uuid.UUID `path:"channel_id"`
}

func (s *Server) getNotificationChannel(ctx context.Context, in *notificationChannelIDInput) (*notificationChannelOutput, error) {
	c, err := s.store.NotificationChannel(ctx, in.ID, in.ChannelID)
	if err != nil {
		return nil, err
	}
	return &notificationChannelOutput{Body: notificationChannelOut(c)}, nil
}

type updateNotificationChannelInput struct {
	ID        uuid.UUID `path:"id"`
	ChannelID uuid.UUID `path:"channel_id"`
	Body      struct {
		Name                   *string                 `json:"name,omitempty" minLength:"1" maxLength:"100"`
		EventTypes             []NotificationEventType `json:"event_types,omitempty" minItems:"1" maxItems:"6"`
		RepositoryIDs          *[]uuid.UUID            `json:"repository_ids,omitempty" maxItems:"100" doc:"[] for every repository"`
		IsActive               *bool                   `json:"is_active,omitempty"`
		URL                    *string                 `json:"url,omitempty" maxLength:"2048"`
		LineTo                 *string                 `json:"line_to,omitempty" pattern:"^[UCR][0-9a-f]{32}$" maxLength:"33"`
		LineChannelAccessToken *string                 `json:"line_channel_access_token,omitempty" maxLength:"1000"`
	}
}

func (s *Server) updateNotificationChannel(ctx context.Context, in *updateNotificationChannelInput) (*notificationChannelOutput, error) {
	cur, err := s.store.NotificationChannel(ctx, in.ID, in.ChannelID)
	if err != nil {
		return nil, err
	}
	b := in.Body
	patch := store.NotificationChannelPatch{Name: b.Name, RepositoryIDs: b.RepositoryIDs, IsActive: b.IsActive}
	if b.EventTypes != nil {
		patch.EventTypes = eventTypeNames(b.EventTypes)
	}
	switch cur.Kind {
	case domain.ChannelLINE:
		if b.URL != nil {
			return nil, domain.Invalid("body.url", "a LINE channel has no URL; set line_to and line_channel_access_token")
		}
		if b.LineTo != nil || b.LineChannelAccessToken != nil {
			old, err := s.sealer.Open(cur.SecretSealed, cur.ID[:])
			if err != nil && b.LineChannelAccessToken == nil {
				return nil, domain.Invalid("body.line_channel_access_token", "the stored token cannot be read; enter it again")
			}
			to, token := cur.Target, string(old)
			if b.LineTo != nil {
				to = *b.LineTo
			}
			if b.LineChannelAccessToken != nil {
				token = *b.LineChannelAccessToken
			}
			target, secret, err := s.receiver(cur.Kind, "", to, token)
			if err != nil {
				return nil, err
			}
			patch.Target, patch.SecretSealed = &target, s.sealer.Seal([]byte(secret), cur.ID[:])
		}
	default:
		if b.LineTo != nil || b.LineChannelAccessToken != nil {
			return nil, domain.Invalid("body.line_to", "only a LINE channel has a LINE recipient")
		}
		if b.URL != nil {
			target, secret, err := s.receiver(cur.Kind, *b.URL, "", "")
			if err != nil {
				return nil, err
			}
			patch.Target = &target
			if cur.Kind == domain.ChannelSlack {
				// a webhook keeps its signing secret: receivers already hold it
				patch.SecretSealed = s.sealer.Seal([]byte(secret), cur.ID[:])
			}
		}
	}
	c, err := s.store.UpdateNotificationChannel(ctx, in.ID, in.ChannelID, patch)
	if err != nil {
		return nil, err
	}
	return &notificationChannelOutput{Body: notificationChannelOut(c)}, nil
}

func (s *Server) deleteNotificationChannel(ctx context.Context, in *notificationChannelIDInput) (*struct{}, error) {
	return nil, s.store.DeleteNotificationChannel(ctx, in.ID, in.ChannelID)
}

type notificationDeliveryOutput struct{ Body NotificationDeliveryOut }

func (s *Server) testNotificationChannel(ctx context.Context, in *notificationChannelIDInput) (*notificationDeliveryOutput, error) {
	orgID := in.ID
	d, err := s.store.QueueTestNotification(ctx, orgID, in.ChannelID)
	if err != nil {
		return nil, err
	}
	if err := s.notifier.DeliverNow(ctx, orgID, d.ID); err != nil {
		// queued all the same: the deliverers will try it
		s.log.WarnContext(ctx, "test message: first attempt not recorded", "delivery_id", d.ID, "error", err)
	}
	if d, err = s.store.NotificationDelivery(ctx, orgID, in.ChannelID, d.ID); err != nil {
		return nil, err
	}
	return &notificationDeliveryOutput{Body: notificationDeliveryOut(d)}, nil
}

type listNotificationDeliveriesInput struct {
	ID        uuid.UUID `path:"id"`
	ChannelID uuid.UUID `path:"channel_id"`
	PageParams
}

type notificationDeliveryPageOutput struct{ Body Page[NotificationDeliveryOut] }

func (s *Server) listNotificationDeliveries(ctx context.Context, in *listNotificationDeliveriesInput) (*notificationDeliveryPageOutput, error) {
	items, total, err := s.store.ListNotificationDeliveries(ctx, in.ID, in.ChannelID, in.Limit, in.Offset())
	if err != nil {
		return nil, err
	}
	return &notificationDeliveryPageOutput{Body: pageOf(mapSlice(items, notificationDeliveryOut), total, in.PageParams)}, nil
}

// NotificationSettingsOut holds the organization-wide notification settings.
type NotificationSettingsOut struct {
	Language string `json:"language" enum:"en,ja" doc:"The language of every message the organization's channels receive"`
}

type notificationSettingsOutput struct{ Body NotificationSettingsOut }

type notificationSettingsInput struct {
	ID uuid.UUID `path:"id"`
}

func (s *Server) getNotificationSettings(ctx context.Context, in *notificationSettingsInput) (*notificationSettingsOutput, error) {
	lang, err := s.store.OrganizationLanguage(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &notificationSettingsOutput{Body: NotificationSettingsOut{Language: lang}}, nil
}

type updateNotificationSettingsInput struct {
	ID   uuid.UUID `path:"id"`
	Body struct {
		Language string `json:"language" enum:"en,ja"`
	}
}

func (s *Server) updateNotificationSettings(ctx context.Context, in *updateNotificationSettingsInput) (*notificationSettingsOutput, error) {
	orgID := in.ID
	if err := s.store.SetOrganizationLanguage(ctx, orgID, in.Body.Language); err != nil {
		return nil, err
	}
	return s.getNotificationSettings(ctx, &notificationSettingsInput{ID: in.ID})
}
